-- Districts and devices: the database-backed registry (the gateway's file registry holds the same fields).
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE districts (
    code            integer PRIMARY KEY,
    name            text NOT NULL,
    kind            text NOT NULL,
    lat             double precision,
    lon             double precision,
    population      integer
);

CREATE TABLE devices (
    device_id           text PRIMARY KEY,
    district            integer NOT NULL REFERENCES districts (code),
    kind                text NOT NULL,
    lat                 double precision,
    lon                 double precision,
    name                text,
    installed           date,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'revoked')),
    interval_s          integer NOT NULL DEFAULT 60 CHECK (interval_s > 0),
    flood_threshold_cm  double precision,
    zone                text CHECK (zone IN ('special', 'normal')),
    road                text,
    river               text,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_district ON devices (district);
