"""Settings of the local stack (env prefix CITYSENSE_STACK_), and the shared service endpoints.

The endpoints (MQTT, Kafka, PostgreSQL) are read from the same variables that the services read
(CITYSENSE_MQTT_HOST, CITYSENSE_MQTT_PORT, CITYSENSE_KAFKA_BOOTSTRAP_SERVERS, CITYSENSE_DATABASE_URL).
When one of them is set, that service is *external*: the stack does not start it, only checks it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from telemetry.paths import find_repo_root

LOCAL_HOST = "127.0.0.1"
DEFAULT_MQTT_PORT = 11883  # devices
DEFAULT_MQTT_TLS_PORT = 11884  # devices over TLS
DEFAULT_MQTT_SERVICE_PORT = 11885  # platform services (gateway, bridge)
DEFAULT_KAFKA_PORT = 19092
DEFAULT_KAFKA_CONTROLLER_PORT = 19093
DEFAULT_PG_PORT = 15432


class StackSettings(BaseSettings):
    """Where the local stack keeps its data and which loopback ports it uses."""

    model_config = SettingsConfigDict(env_prefix="CITYSENSE_STACK_", extra="ignore")

    repo_dir: Path = Field(default_factory=find_repo_root)
    data_dir: Path | None = None  # default: <repo>/.stack
    host: str = LOCAL_HOST
    mqtt_port: int = DEFAULT_MQTT_PORT
    mqtt_tls_port: int = DEFAULT_MQTT_TLS_PORT
    mqtt_service_port: int = DEFAULT_MQTT_SERVICE_PORT
    mqtt_require_client_cert: bool = False  # TLS listener: also demand a certificate of the local CA
    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_controller_port: int = DEFAULT_KAFKA_CONTROLLER_PORT
    kafka_heap_mb: int = 1024
    pg_port: int = DEFAULT_PG_PORT
    pg_database: str = "citysense"
    pg_user: str = "citysense"
    # Local development password for the platform's role; the stack listens on loopback only.
    pg_password: SecretStr = SecretStr("citysense")
    start_timeout_s: float = 90.0

    # External services: when set, the stack leaves that service alone.
    external_mqtt_host: str | None = Field(default=None, validation_alias=AliasChoices("CITYSENSE_MQTT_HOST"))
    external_mqtt_port: int | None = Field(default=None, validation_alias=AliasChoices("CITYSENSE_MQTT_PORT"))
    external_mqtt_service_port: int | None = Field(default=None,
                                                   validation_alias=AliasChoices("CITYSENSE_MQTT_SERVICE_PORT"))
    external_kafka: str | None = Field(
        default=None, validation_alias=AliasChoices("CITYSENSE_KAFKA_BOOTSTRAP_SERVERS")
    )
    external_database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CITYSENSE_DATABASE_URL")
    )

    @property
    def root(self) -> Path:
        return (self.data_dir or self.repo_dir / ".stack").resolve()

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def log_file(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def pid_file(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    @property
    def mqtt_endpoint(self) -> tuple[str, int]:
        if self.external_mqtt_host:
            return self.external_mqtt_host, self.external_mqtt_port or 1883
        return self.host, self.external_mqtt_port or self.mqtt_port

    @property
    def mqtt_service_endpoint(self) -> tuple[str, int]:
        """Where platform services (gateway, bridge) connect; the device endpoint on an external broker."""
        host, port = self.mqtt_endpoint
        if self.external_mqtt_host:
            return host, self.external_mqtt_service_port or port
        return host, self.external_mqtt_service_port or self.mqtt_service_port

    @property
    def mqtt_tls_endpoint(self) -> tuple[str, int]:
        return self.mqtt_endpoint[0], self.mqtt_tls_port

    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka or f"{self.host}:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        """Full DSN with password (never print it; use `database_url_display`)."""
        if self.external_database_url:
            return self.external_database_url.get_secret_value()
        pw = self.pg_password.get_secret_value()
        return f"postgresql://{self.pg_user}:{pw}@{self.host}:{self.pg_port}/{self.pg_database}"

    @property
    def database_url_display(self) -> str:
        from telemetry.secrets import redact_dsn

        return redact_dsn(self.database_url)

    def is_external(self, service: str) -> bool:
        return {
            "mosquitto": self.external_mqtt_host is not None,
            "kafka": self.external_kafka is not None,
            "postgres": self.external_database_url is not None,
        }[service]


def running_as_root() -> bool:
    return os.geteuid() == 0
