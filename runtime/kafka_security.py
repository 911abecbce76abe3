"""Kafka connection security shared by the gateway, streams and sink settings: SASL and/or TLS.

Each service's settings class inherits `KafkaSecurity`, so the same variables configure all three:
CITYSENSE_KAFKA_SECURITY_PROTOCOL (PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL),
CITYSENSE_KAFKA_SASL_MECHANISM (PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512), CITYSENSE_KAFKA_SASL_USERNAME,
CITYSENSE_KAFKA_SASL_PASSWORD (a secret: never logged), CITYSENSE_KAFKA_SSL_CAFILE (the CA that signed
the brokers' certificates; default: the system's). The local stack's broker is PLAINTEXT on loopback.

And how the topics a service creates are replicated: CITYSENSE_KAFKA_REPLICATION_FACTOR (1 on the
local stack; 3 in production) and CITYSENSE_KAFKA_MIN_INSYNC_REPLICAS (default: 2 from a replication
factor of 3, else 1), with unclean leader election off on every topic.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings


def _env(name: str) -> AliasChoices:
    return AliasChoices(f"CITYSENSE_KAFKA_{name}")


class KafkaSecurity(BaseSettings):
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", validation_alias=_env("SECURITY_PROTOCOL"))
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", validation_alias=_env("SASL_MECHANISM"))
    kafka_sasl_username: str | None = Field(None, validation_alias=_env("SASL_USERNAME"))
    kafka_sasl_password: SecretStr | None = Field(None, validation_alias=_env("SASL_PASSWORD"))
    kafka_ssl_cafile: Path | None = Field(None, validation_alias=_env("SSL_CAFILE"))
    kafka_replication_factor: int = Field(1, ge=1, le=7, validation_alias=_env("REPLICATION_FACTOR"))
    kafka_min_insync_replicas: int | None = Field(None, ge=1, validation_alias=_env("MIN_INSYNC_REPLICAS"))

    @model_validator(mode="after")
    def _sasl_needs_credentials(self):
        if self.kafka_security_protocol.startswith("SASL") and not (self.kafka_sasl_username and
                                                                     self.kafka_sasl_password):
            raise ValueError(f"CITYSENSE_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                             "CITYSENSE_KAFKA_SASL_USERNAME and CITYSENSE_KAFKA_SASL_PASSWORD")
        return self

    @model_validator(mode="after")
    def _insync_within_replicas(self):
        if self.kafka_min_insync_replicas and self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(f"CITYSENSE_KAFKA_MIN_INSYNC_REPLICAS={self.kafka_min_insync_replicas} is more than "
                             f"CITYSENSE_KAFKA_REPLICATION_FACTOR={self.kafka_replication_factor}: no write could "
                             "ever be acknowledged")
        return self

    def kafka_topic_defaults(self) -> dict:
        """`replication` and the configs every created topic gets (ensure_topics' keywords)."""
        insync = self.kafka_min_insync_replicas or (2 if self.kafka_replication_factor >= 3 else 1)
        return {"replication": self.kafka_replication_factor,
                "defaults": {"min.insync.replicas": str(insync), "unclean.leader.election.enable": "false"}}

    def kafka_ssl_context(self) -> ssl.SSLContext | None:
        if "SSL" not in self.kafka_security_protocol:
            return None
        return ssl.create_default_context(cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None)

    def kafka_client_options(self) -> dict:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol.startswith("SASL"):
            options.update(sasl_mechanism=self.kafka_sasl_mechanism, sasl_plain_username=self.kafka_sasl_username,
                           sasl_plain_password=self.kafka_sasl_password.get_secret_value())
        context = self.kafka_ssl_context()
        if context is not None:
            options["ssl_context"] = context
        return options

    def faust_credentials(self):
        """The same for Faust's `broker_credentials` (None: plaintext)."""
        import faust

        if self.kafka_security_protocol.startswith("SASL"):
            return faust.SASLCredentials(username=self.kafka_sasl_username,
                                         password=self.kafka_sasl_password.get_secret_value(),
                                         mechanism=self.kafka_sasl_mechanism, ssl_context=self.kafka_ssl_context())
        if self.kafka_security_protocol == "SSL":
            return faust.SSLCredentials(self.kafka_ssl_context())
        return None
