"""The stage's offsets client when Kafka cannot be reached: every call fails with a KafkaError (which
the stage retries), never with an AttributeError of a half-started client (which ended the roll-up
agent of a worker cut off from Kafka, found by the rehearsal's partition fault)."""

from __future__ import annotations

import socket

import pytest
from aiokafka.errors import KafkaError

from streams.stage import Offsets

pytestmark = pytest.mark.unit


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


async def test_unreachable_kafka_fails_every_call_with_a_kafka_error():
    offsets = Offsets({"bootstrap_servers": f"127.0.0.1:{closed_port()}", "request_timeout_ms": 1000}, "t")
    for _ in range(2):
        with pytest.raises(KafkaError):
            await offsets.starts({0})
    assert offsets.consumer is None
