"""Settings of the streams worker (env prefix CITYSENSE_STREAMS_), read in one place."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from runtime.kafka_security import KafkaSecurity


def _shared(name: str) -> AliasChoices:
    return AliasChoices(f"CITYSENSE_STREAMS_{name}", f"CITYSENSE_{name}")


class StreamsSettings(KafkaSecurity):  # + CITYSENSE_KAFKA_SECURITY_PROTOCOL, _SASL_*, _SSL_CAFILE
    model_config = SettingsConfigDict(env_prefix="CITYSENSE_STREAMS_", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:19092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS"))
    topic_prefix: str = Field("citysense", validation_alias=_shared("TOPIC_PREFIX"))
    readings_topic: str | None = None  # default: <prefix>.readings.v1
    app_id: str = "citysense-streams"  # the Kafka consumer group; workers with the same id share the work
    partitions: int = 12  # of the readings topic (and of the state table's changelog)
    replication: int | None = None  # of the topics it creates; default CITYSENSE_KAFKA_REPLICATION_FACTOR

    window_sizes_s: tuple[int, ...] = (60, 900, 3600)  # 3600 is needed for the hourly AQI
    allowed_lateness_s: float = 30.0
    area_set: str = Field("hai-phong-2025", validation_alias=_shared("AREA_SET"))  # or a CSV (telemetry/areas.py)
    # A group or the city forgets a window this long (wall clock) after its last partial; a
    # commune's window that closes later than that is not rolled up (counted, streams/rollup.py).
    rollup_idle_s: float = 3600.0
    session_timeout_s: float = 10.0  # a dead worker's partitions move to the others after this
    batch_size: int = 2000
    batch_within_s: float = 0.5
    idle_partition_s: float = 10.0  # records waiting in Kafka, none delivered this long: seek back (continuity.py)

    registry: Path | None = Field(None, validation_alias=_shared("REGISTRY"))
    rules: Path | None = None  # alert rules JSON; default streams/rules.default.json
    data_dir: Path = Path(".stack/streams")

    metrics_host: str = "127.0.0.1"
    metrics_port: int = 19102  # 0: no metrics endpoint
    log_level: str = Field("info", validation_alias=AliasChoices("CITYSENSE_STREAMS_LOG_LEVEL", "CITYSENSE_LOG_LEVEL"))

    def kafka_client(self) -> dict:
        """bootstrap_servers and security options for the worker's own aiokafka clients."""
        return {"bootstrap_servers": self.kafka_bootstrap_servers, **self.kafka_client_options()}

    @property
    def topic_replication(self) -> int:
        """Faust's own default is 1: the topics it and we create take the platform's factor."""
        return self.replication or self.kafka_replication_factor

