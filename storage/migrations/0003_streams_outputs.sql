-- What the streams worker publishes: window aggregates, hourly and daily VN_AQI, alerts, late readings.
CREATE TABLE aggregates (
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    window_s        integer NOT NULL,
    district        integer NOT NULL,
    metric          text NOT NULL,
    unit            text,
    count           integer NOT NULL,
    min             double precision,
    max             double precision,
    sum             double precision,
    mean            double precision,
    excluded        integer NOT NULL DEFAULT 0,
    extra           jsonb,
    stored_at       timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('aggregates', 'window_start', chunk_time_interval => interval '7 days');
CREATE UNIQUE INDEX aggregates_identity ON aggregates (district, metric, window_s, window_start);

CREATE TABLE aqi (
    start           timestamptz NOT NULL,
    "end"           timestamptz NOT NULL,
    period          text NOT NULL CHECK (period IN ('hour', 'day')),
    district        integer NOT NULL,
    aqi             integer NOT NULL,
    level_vi        text NOT NULL,
    level_en        text NOT NULL,
    colour          integer[] NOT NULL,
    dominant        text,
    beyond_index    boolean NOT NULL DEFAULT false,
    sub_indices     jsonb NOT NULL,
    nowcast         jsonb,
    concentrations  jsonb,
    stored_at       timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('aqi', 'start', chunk_time_interval => interval '30 days');
CREATE UNIQUE INDEX aqi_identity ON aqi (district, period, start);
CREATE VIEW aqi_hourly AS SELECT * FROM aqi WHERE period = 'hour';
CREATE VIEW aqi_daily AS SELECT * FROM aqi WHERE period = 'day';

-- One row per alert, its lifecycle state superseded by later messages.
CREATE TABLE alerts (
    alert_id            text PRIMARY KEY,
    district            integer NOT NULL,
    rule                text NOT NULL,
    subject             text NOT NULL,
    state               text NOT NULL CHECK (state IN ('open', 'update', 'resolved')),
    severity            text NOT NULL,
    value               double precision,
    peak                double precision,
    threshold           double precision,
    unit                text,
    opened_at           timestamptz NOT NULL,
    first_window_start  timestamptz,
    updated_at          timestamptz NOT NULL,
    resolved_at         timestamptz,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_open ON alerts (district) WHERE resolved_at IS NULL;

CREATE TABLE late_readings (
    ts                  timestamptz NOT NULL,
    device_id           text NOT NULL,
    district            integer NOT NULL,
    watermark           timestamptz NOT NULL,
    late_by_s           double precision NOT NULL,
    reading             jsonb NOT NULL,
    kafka_partition     integer NOT NULL,
    kafka_offset        bigint NOT NULL,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('late_readings', 'ts', chunk_time_interval => interval '7 days');
-- Kafka coordinates identify a record: a redelivered record is stored once.
CREATE UNIQUE INDEX late_readings_identity ON late_readings (ts, kafka_partition, kafka_offset);
