-- Raw readings, one row per message and status ("wide": a column per metric of the catalogue).
-- Measured against one row per metric in docs/storage.md. Identity of a value: (device_id, ts, metric);
-- the unique key (device_id, ts, status) includes the time column, as a hypertable requires.
CREATE TABLE readings (
    ts                  timestamptz NOT NULL,
    device_id           text NOT NULL,
    district            integer NOT NULL,
    kind                text NOT NULL,
    status              text NOT NULL DEFAULT 'measuring',
    seq                 bigint,
    received_at         timestamptz NOT NULL,
    format              text NOT NULL DEFAULT 'native',
    pm2_5               double precision,
    pm10                double precision,
    co                  double precision,
    no2                 double precision,
    so2                 double precision,
    o3                  double precision,
    temperature         double precision,
    humidity            double precision,
    rainfall            double precision,
    wind_speed          double precision,
    wind_direction      double precision,
    noise_laeq          double precision,
    water_level         double precision,
    vehicles_motorbike  double precision,
    vehicles_car        double precision,
    vehicles_truck_bus  double precision,
    vehicles_total      double precision,
    avg_speed           double precision,
    occupancy           double precision,
    stored_at           timestamptz NOT NULL DEFAULT now()
);
-- One day per chunk: ~0.9 M rows a day for the province's ~600 devices at one message a minute.
SELECT create_hypertable('readings', 'ts', chunk_time_interval => interval '1 day');
CREATE UNIQUE INDEX readings_identity ON readings (device_id, ts, status);
CREATE INDEX readings_district_ts ON readings (district, ts DESC);
