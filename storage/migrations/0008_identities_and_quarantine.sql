-- Tables keyed on what a record is, not on its Kafka coordinates (a gateway re-send, an MQTT
-- redelivery or a streams replay is a new Kafka record of the same thing), and the quarantine of
-- records the database refused (docs/storage.md).

-- A late reading is the reading: device, event time, status (as readings).
ALTER TABLE late_readings ADD COLUMN status text NOT NULL DEFAULT 'measuring';
UPDATE late_readings SET status = reading->>'status' WHERE reading->>'status' IS NOT NULL;
DELETE FROM late_readings a USING late_readings b
 WHERE a.device_id = b.device_id AND a.ts = b.ts AND a.status = b.status
   AND (a.kafka_partition, a.kafka_offset) > (b.kafka_partition, b.kafka_offset);
DROP INDEX late_readings_identity;
CREATE UNIQUE INDEX late_readings_identity ON late_readings (device_id, ts, status);

-- A dead letter is one reception of one payload on one topic: the gateway builds the record once
-- per message it received and re-sends the same bytes; `mqtt_dup` marks a broker redelivery
-- (MQTT DUP flag: the same message again after a gateway restart), which `citysense audit` does not
-- count as a second reject when the first reception is stored.
ALTER TABLE deadletters ADD COLUMN mqtt_dup boolean NOT NULL DEFAULT false;
DELETE FROM deadletters a USING deadletters b
 WHERE a.received_at = b.received_at AND a.mqtt_topic = b.mqtt_topic AND a.payload_sha256 = b.payload_sha256
   AND (a.kafka_partition, a.kafka_offset) > (b.kafka_partition, b.kafka_offset);
DROP INDEX deadletters_identity;
CREATE UNIQUE INDEX deadletters_identity ON deadletters (received_at, mqtt_topic, payload_sha256);
CREATE INDEX deadletters_payload ON deadletters (mqtt_topic, payload_sha256, received_at);

-- A security summary is one gateway's summary of one client for one interval.
UPDATE security_events SET gateway = '' WHERE gateway IS NULL;
ALTER TABLE security_events ALTER COLUMN gateway SET DEFAULT '', ALTER COLUMN gateway SET NOT NULL;
DELETE FROM security_events a USING security_events b
 WHERE a.window_end = b.window_end AND a.gateway = b.gateway AND a.client = b.client
   AND (a.kafka_partition, a.kafka_offset) > (b.kafka_partition, b.kafka_offset);
DROP INDEX security_events_identity;
CREATE UNIQUE INDEX security_events_identity ON security_events (window_end, gateway, client);

-- Records the database refused for a reason a retry cannot cure (a value out of range, a NUL in a
-- text, a constraint): the sink stores the rest of their batch and keeps each of these here, with
-- the error and its Kafka coordinates (which identify the record: a redelivery is stored once).
CREATE TABLE quarantine (
    topic               text NOT NULL,
    kafka_partition     integer NOT NULL,
    kafka_offset        bigint NOT NULL,
    target_table        text,
    device_id           text,
    sqlstate            text,
    error               text NOT NULL,
    record              bytea NOT NULL,
    record_bytes        integer NOT NULL,
    quarantined_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE INDEX quarantine_time ON quarantine (quarantined_at DESC);
GRANT SELECT ON quarantine TO citysense_reader;
GRANT SELECT, INSERT, DELETE ON quarantine TO citysense_writer;
