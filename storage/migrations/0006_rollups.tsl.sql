-- Community (TSL) edition only: columnstore compression, retention policies and continuous aggregates
-- (hourly and daily roll-ups of the raw readings). With the Apache edition this file is not applied:
-- the streamed aggregates serve the roll-ups and `citysense db retention` drops old chunks.
ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
                          timescaledb.compress_orderby = 'ts DESC');
SELECT add_compression_policy('readings', interval '7 days');
SELECT add_retention_policy('readings', interval '400 days');
SELECT add_retention_policy('deadletters', interval '90 days');
SELECT add_retention_policy('late_readings', interval '90 days');

CREATE MATERIALIZED VIEW readings_hourly WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', ts) AS bucket, district, kind,
       count(*) AS messages, avg(pm2_5) AS pm2_5, avg(pm10) AS pm10, avg(co) AS co, avg(no2) AS no2,
       avg(so2) AS so2, avg(o3) AS o3, avg(temperature) AS temperature, avg(humidity) AS humidity,
       max(water_level) AS water_level_max, sum(vehicles_motorbike) AS vehicles_motorbike,
       sum(vehicles_car) AS vehicles_car, sum(vehicles_truck_bus) AS vehicles_truck_bus
FROM readings WHERE status = 'measuring'
GROUP BY bucket, district, kind WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_hourly', start_offset => interval '3 days',
                                       end_offset => interval '1 hour', schedule_interval => interval '30 minutes');

CREATE MATERIALIZED VIEW readings_daily WITH (timescaledb.continuous) AS
SELECT time_bucket('1 day', ts, 'Asia/Ho_Chi_Minh') AS bucket, district, kind,
       count(*) AS messages, avg(pm2_5) AS pm2_5, avg(pm10) AS pm10, max(water_level) AS water_level_max,
       sum(vehicles_motorbike) AS vehicles_motorbike, sum(vehicles_car) AS vehicles_car,
       sum(vehicles_truck_bus) AS vehicles_truck_bus
FROM readings WHERE status = 'measuring'
GROUP BY bucket, district, kind WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_daily', start_offset => interval '10 days',
                                       end_offset => interval '1 day', schedule_interval => interval '6 hours');
GRANT SELECT ON readings_hourly, readings_daily TO citysense_reader, citysense_writer;
