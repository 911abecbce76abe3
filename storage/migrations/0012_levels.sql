-- Streams outputs by level (issue 15): an aggregate, an AQI or an alert row names its area's level
-- (commune, group, city) and parent, as the schema-2 messages do; a roll-up (group, city) says how
-- many child areas it holds, and its AQI which commune is the worst. A roll-up is refined as its
-- communes' windows close: the sink keeps the fullest version (storage/rows.py). Rows stored before
-- this migration keep NULL there and stay queryable under their code.
ALTER TABLE aggregates ADD COLUMN level text CHECK (level IN ('commune', 'group', 'city')),
                       ADD COLUMN parent integer,
                       ADD COLUMN areas integer;
ALTER TABLE aqi ADD COLUMN level text CHECK (level IN ('commune', 'group', 'city')),
                ADD COLUMN parent integer,
                ADD COLUMN areas integer,
                ADD COLUMN worst_area integer;
ALTER TABLE alerts ADD COLUMN level text CHECK (level IN ('commune', 'group', 'city')),
                   ADD COLUMN parent integer;
CREATE INDEX aggregates_level ON aggregates (level, window_s, window_start DESC);
