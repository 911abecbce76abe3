-- Keys managed over HTTP by an `admin` key (issue 16), besides `citysense api-keys`: who made and
-- who revoked each key is kept with it (a key id, or NULL for the owner's command line). The API's
-- actions role may create keys and stamp their revocation, nothing else on this table; the hash is
-- computed by the API and the token is never stored.
ALTER TABLE api_keys ADD COLUMN created_by text, ADD COLUMN revoked_by text;
GRANT INSERT (key_id, key_sha256, consumer, role, created_by) ON api_keys TO citysense_actions;
GRANT UPDATE (revoked_at, revoked_by) ON api_keys TO citysense_actions;
