"""MQTT gateway: receives device telemetry, validates it with the shared contracts, forwards it to Kafka."""
