"""Errors of the gateway."""

from runtime.exceptions import CitysenseError


class GatewayError(CitysenseError):
    """Root of the gateway's errors."""


class KafkaUnavailable(GatewayError):
    """Kafka did not answer; the gateway retries with backoff and holds MQTT messages unacknowledged."""

    retriable = True
