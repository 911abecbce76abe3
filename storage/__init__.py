"""TimescaleDB storage: migrations, the idempotent sink from Kafka, the operations centre's queries."""
