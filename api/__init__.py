"""citysense api: the operations centre's HTTP API over TimescaleDB and the Kafka output topics."""
