-- Traceability of data sharing (issue 18; Decree 278/2025/NĐ-CP asks that sharing between agencies be
-- monitored and traceable): each call's interface (api, open-data, ngsi-ld, odata, export), the kind
-- of entity it read and how many it returned, for `citysense api-keys report`. Rows logged before
-- this migration count as the API's.
ALTER TABLE api_access_log ADD COLUMN interface text NOT NULL DEFAULT 'api',
                           ADD COLUMN entity_type text,
                           ADD COLUMN rows bigint;
