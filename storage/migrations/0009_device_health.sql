-- Device health events of the gateway (today: clock skew, gateway/clocks.py): one row per change of
-- a device's state as one gateway judged it; a re-sent event is the same (device, instant, gateway).
CREATE TABLE device_health (
    at                  timestamptz NOT NULL,
    device_id           text NOT NULL,
    district            integer,
    kind                text NOT NULL,
    state               text NOT NULL,
    skew_s              double precision,
    tolerance_s         double precision,
    gateway             text NOT NULL DEFAULT '',
    stored_at           timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('device_health', 'at', chunk_time_interval => interval '30 days');
CREATE UNIQUE INDEX device_health_identity ON device_health (device_id, at, kind, gateway);
GRANT SELECT ON device_health TO citysense_reader;
GRANT SELECT, INSERT, DELETE ON device_health TO citysense_writer;
