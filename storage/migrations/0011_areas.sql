-- Areas replace districts (issue 15): since 1 July 2025 the units reported on are communes, with
-- levels — commune, group (the former district a commune grew from: a reporting convenience, not a
-- legal unit), city. One table holds the area set in use (`citysense db seed`, CITYSENSE_AREA_SET);
-- the districts of a database made before this migration become areas of the legacy set, so every
-- device keeps a valid area. Hải Dương's former district codes (288–300) are group codes of
-- hai-phong-2025, so seeding today's set over them keeps old rows meaningful.
CREATE TABLE areas (
    code        integer PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('commune', 'group', 'city')),
    parent      integer REFERENCES areas (code),
    lat         double precision,
    lon         double precision,
    population  integer,
    area_set    text NOT NULL,
    boundary    jsonb,          -- GeoJSON geometry (communes of a set with boundaries)
    CHECK (parent IS DISTINCT FROM code)
);
CREATE INDEX areas_parent ON areas (parent);

INSERT INTO areas (code, name, kind, level, lat, lon, population, area_set)
SELECT code, name, kind, 'commune', lat, lon, population, 'hai-duong-2023' FROM districts;

ALTER TABLE devices DROP CONSTRAINT devices_district_fkey;
ALTER TABLE devices ADD CONSTRAINT devices_area_fkey FOREIGN KEY (district) REFERENCES areas (code);
DROP TABLE districts;

GRANT SELECT ON areas TO citysense_reader;
GRANT SELECT, INSERT, UPDATE ON areas TO citysense_writer;
