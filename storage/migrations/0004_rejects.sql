-- What the gateway rejected (dead letters) and its security summaries, for operators and the
-- cyber-security monitoring centre.
CREATE TABLE deadletters (
    received_at         timestamptz NOT NULL,
    reason              text NOT NULL,
    message             text NOT NULL,
    mqtt_topic          text NOT NULL,
    device_id           text,
    district            integer,
    payload             bytea NOT NULL,
    payload_bytes       integer NOT NULL,
    payload_truncated   boolean NOT NULL,
    payload_sha256      text NOT NULL,
    gateway             text,
    kafka_partition     integer NOT NULL,
    kafka_offset        bigint NOT NULL,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('deadletters', 'received_at', chunk_time_interval => interval '7 days');
CREATE UNIQUE INDEX deadletters_identity ON deadletters (received_at, kafka_partition, kafka_offset);
CREATE INDEX deadletters_reason ON deadletters (reason, received_at DESC);

CREATE TABLE security_events (
    window_end          timestamptz NOT NULL,
    window_start        timestamptz NOT NULL,
    gateway             text,
    client              text NOT NULL,
    counts              jsonb NOT NULL,
    total               integer NOT NULL,
    flood               boolean NOT NULL,
    first_topic         text,
    kafka_partition     integer NOT NULL,
    kafka_offset        bigint NOT NULL,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('security_events', 'window_end', chunk_time_interval => interval '30 days');
CREATE UNIQUE INDEX security_events_identity ON security_events (window_end, kafka_partition, kafka_offset);
