-- Least privilege: a writer group for the sink, a read-only group for departments and the shared data
-- warehouse. Migrations run as the database owner. Login users are members of these groups
-- (the local stack creates citysense_sink and citysense_ro).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'citysense_writer') THEN
        CREATE ROLE citysense_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'citysense_reader') THEN
        CREATE ROLE citysense_reader NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO citysense_writer, citysense_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO citysense_reader, citysense_writer;
GRANT INSERT, UPDATE ON readings, aggregates, aqi, alerts, late_readings, deadletters, security_events, devices,
    districts TO citysense_writer;
-- drop_chunks for the retention job of the Apache edition
GRANT DELETE ON readings, aggregates, aqi, late_readings, deadletters, security_events TO citysense_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO citysense_reader, citysense_writer;
