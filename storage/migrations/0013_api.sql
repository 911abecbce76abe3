-- The operations centre's API (issue 16): keys, the access log, and operators' actions on alerts.
-- Keys are stored as SHA-256 of the whole token (a random 256-bit secret: a fast hash is enough);
-- `key_id` is the token's public prefix, what listings and the access log name.
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    key_sha256  text NOT NULL UNIQUE,
    consumer    text NOT NULL,
    role        text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Every request: who (consumer, key), what (method, route template, path), the answer, when
-- (Decree 278/2025/NĐ-CP: sharing between agencies is monitored and traceable).
CREATE TABLE api_access_log (
    at           timestamptz NOT NULL,
    key_id       text,
    consumer     text,
    method       text NOT NULL,
    route        text NOT NULL,
    path         text NOT NULL,
    status       integer NOT NULL,
    duration_ms  double precision NOT NULL,
    client       text
);
SELECT create_hypertable('api_access_log', 'at', chunk_time_interval => interval '7 days');
CREATE INDEX api_access_log_consumer ON api_access_log (consumer, at DESC);

-- An operator's actions on an alert: a second dimension beside the stream's own lifecycle.
-- `published_at`: when the action reached Kafka (an outbox: the API sends what is still NULL).
CREATE TABLE alert_actions (
    action_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id      text NOT NULL REFERENCES alerts (alert_id),
    action        text NOT NULL CHECK (action IN ('acknowledge', 'assign', 'comment', 'close')),
    actor         text NOT NULL,
    key_id        text NOT NULL,
    assignee      text,
    comment       text,
    reason        text,
    at            timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    CHECK (action <> 'assign' OR assignee IS NOT NULL),
    CHECK (action <> 'comment' OR comment IS NOT NULL),
    CHECK (action <> 'close' OR reason IS NOT NULL)
);
CREATE INDEX alert_actions_alert ON alert_actions (alert_id, at);
CREATE INDEX alert_actions_unpublished ON alert_actions (action_id) WHERE published_at IS NULL;

-- The API's writing role: reads like the reader, writes only its own tables.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'citysense_actions') THEN
        CREATE ROLE citysense_actions NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO citysense_actions;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO citysense_actions;
GRANT INSERT ON api_access_log, alert_actions TO citysense_actions;
GRANT UPDATE (published_at) ON alert_actions TO citysense_actions;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO citysense_actions;
-- Key hashes are for the API alone (not for the departments' read-only role nor the sink).
REVOKE ALL ON api_keys FROM citysense_reader, citysense_writer;
