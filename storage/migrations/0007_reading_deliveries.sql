-- How many times each reading was delivered to storage: 1, plus one per duplicate removed (a gateway
-- that re-sent after a crash, a sink that re-read Kafka after one). `citysense audit` reports the
-- duplicates removed per device from it.
ALTER TABLE readings ADD COLUMN deliveries integer NOT NULL DEFAULT 1;
