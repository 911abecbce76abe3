"""Settings of storage: the sink and the database tools (env prefix CITYSENSE_STORAGE_), read in one place."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from runtime.kafka_security import KafkaSecurity


def _shared(name: str) -> AliasChoices:
    return AliasChoices(f"CITYSENSE_STORAGE_{name}", f"CITYSENSE_{name}")


class StorageSettings(KafkaSecurity):  # + CITYSENSE_KAFKA_SECURITY_PROTOCOL, _SASL_*, _SSL_CAFILE
    model_config = SettingsConfigDict(env_prefix="CITYSENSE_STORAGE_", extra="ignore", populate_by_name=True)

    # The owner's connection (migrations); the sink may use a least-privilege writer instead.
    database_url: SecretStr = Field(SecretStr("postgresql://citysense:citysense@127.0.0.1:15432/citysense"),
                                    validation_alias=_shared("DATABASE_URL"))
    sink_database_url: SecretStr | None = None  # default: database_url

    kafka_bootstrap_servers: str = Field("127.0.0.1:19092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS"))
    topic_prefix: str = Field("citysense", validation_alias=_shared("TOPIC_PREFIX"))
    group_id: str = "citysense-sink"
    client_id: str = "citysense-sink"

    batch_rows: int = 5000
    batch_ms: int = 200
    poll_idle_ms: int = 1000  # one poll's wait when nothing arrives (also how soon a stop is noticed)
    # Kafka answers a fetch once it holds this much for the sink, or after fetch_max_wait_ms: fewer, fuller
    # fetches under load (aiokafka's defaults, 1 byte and 500 ms, answer each record as it arrives)
    fetch_min_bytes: int = 128 * 1024
    fetch_max_wait_ms: int = 100
    retry_backoff_max_s: float = 10.0

    retention_days_readings: int = 400
    retention_days_rejects: int = 90
    retention_interval_s: int = 3600

    registry: Path | None = Field(None, validation_alias=_shared("REGISTRY"))
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 19103  # 0: no metrics endpoint

    @property
    def sink_dsn(self) -> str:
        return (self.sink_database_url or self.database_url).get_secret_value()

    @property
    def dsn(self) -> str:
        return self.database_url.get_secret_value()
