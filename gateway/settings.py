"""Settings of the gateway (env prefix CITYSENSE_GATEWAY_), read in one place.

The broker endpoints are shared with the other services and the local stack:
CITYSENSE_MQTT_HOST, CITYSENSE_MQTT_SERVICE_PORT, CITYSENSE_KAFKA_BOOTSTRAP_SERVERS (a CITYSENSE_GATEWAY_…
variable of the same name wins).
"""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from runtime.kafka_security import KafkaSecurity


def _shared(name: str) -> AliasChoices:
    return AliasChoices(f"CITYSENSE_GATEWAY_{name}", f"CITYSENSE_{name}")


class GatewaySettings(KafkaSecurity):  # + CITYSENSE_KAFKA_SECURITY_PROTOCOL, _SASL_*, _SSL_CAFILE
    model_config = SettingsConfigDict(env_prefix="CITYSENSE_GATEWAY_", extra="ignore", populate_by_name=True)

    # MQTT side
    mqtt_host: str = Field("127.0.0.1", validation_alias=_shared("MQTT_HOST"))
    # The broker's listener for platform services (the local stack's 11885; devices use 11883/11884).
    mqtt_port: int = Field(11885, validation_alias=_shared("MQTT_SERVICE_PORT"))
    mqtt_username: str | None = "citysense-gateway"  # may subscribe to uplinks, never publish
    mqtt_password: SecretStr | None = None  # `citysense gateway` reads the local stack's when unset
    mqtt_tls_ca: Path | None = None
    # A client certificate for a listener that requires one (the production broker's service listener)
    mqtt_tls_certfile: Path | None = None
    mqtt_tls_keyfile: Path | None = None
    client_id: str = Field(default_factory=lambda: f"citysense-gw-{socket.gethostname()}")
    share_group: str = ""  # set (e.g. citysense-gateway) to run several gateways: see README
    topic_root: str = "citysense"
    session_expiry_s: int = 7 * 24 * 3600  # the broker keeps the session (and queues) while we are away
    receive_maximum: int = 1000  # unacknowledged QoS 1 messages the broker may send us at once
    keepalive_s: int = 30

    # Back-pressure bound: messages and payload bytes held between MQTT and Kafka
    max_in_flight: int = 1000
    max_in_flight_bytes: int = 64 * 1024 * 1024

    # Kafka side
    kafka_bootstrap_servers: str = Field("127.0.0.1:19092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS"))
    topic_prefix: str = Field("citysense", validation_alias=_shared("TOPIC_PREFIX"))
    # How long the producer waits to fill a batch. 50 ms, not aiokafka's 0 or Kafka's 5: under load, fewer and
    # fuller produce requests cost Kafka and the sink less CPU per message (docs/performance.md, 2026-12-07)
    linger_ms: int = 50
    max_batch_bytes: int = 512 * 1024
    request_timeout_ms: int = 15_000
    retry_backoff_max_s: float = 5.0

    # Validation
    registry: Path | None = Field(None, validation_alias=_shared("REGISTRY"))
    # The area set (telemetry/areas.py): which former district each commune lies in, for devices that
    # still publish under a former district's code
    area_set: str = Field("hai-phong-2025", validation_alias=_shared("AREA_SET"))
    max_payload_bytes: int = 64 * 1024
    max_future_skew_s: int = 300
    max_age_s: int = 7 * 24 * 3600

    # Device clocks: skew beyond the tolerance is reported as device health (gateway/clocks.py)
    clock_skew_tolerance_s: float = 60.0
    clock_interval_s: float = 30.0

    # Security events: one summary per client per interval
    security_interval_s: float = 10.0
    security_max_clients: int = 10_000

    # Operations
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 19101  # 0: no metrics endpoint
    shutdown_timeout_s: float = 15.0

    @model_validator(mode="after")
    def _receive_maximum_within_the_bound(self):
        """The broker's Receive Maximum is what bounds the messages held (gateway/gate.py)."""
        if self.receive_maximum > self.max_in_flight:
            raise ValueError(f"CITYSENSE_GATEWAY_RECEIVE_MAXIMUM ({self.receive_maximum}) must not exceed "
                             f"CITYSENSE_GATEWAY_MAX_IN_FLIGHT ({self.max_in_flight}): the broker's Receive Maximum "
                             "is what keeps the messages the gateway holds within its bound")
        return self
