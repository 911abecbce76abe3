"""Fixtures for streams tests: produce readings to a unique topic, run Faust workers as subprocesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from runtime.kafka_topics import ensure_topics
from telemetry.areas import LEGACY_SET
from telemetry.topics import KafkaTopics, district_key
from tests.integration.helpers import ServiceProcess, free_port, http_get, metric_value, uncommitted, wait_for

from .scenario import REGISTRY


@dataclass
class StreamsEnv:
    unique: str
    kafka: str
    tmp: Path
    readings_topic: str
    registry: Path
    processes: list[ServiceProcess] = field(default_factory=list)

    async def produce(self, readings: list[dict]) -> None:
        await ensure_topics(self.kafka, {self.readings_topic: 12})
        async with AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all", enable_idempotence=True,
                                    linger_ms=5) as producer:
            futures = [await producer.send(self.readings_topic, orjson.dumps(r), key=district_key(r["district"]))
                       for r in readings]
            for f in futures:
                await f

    def start(self, name: str, app: str, prefix: str) -> tuple[ServiceProcess, int]:
        port = free_port()
        env = {"CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": self.kafka, "CITYSENSE_STREAMS_TOPIC_PREFIX": prefix,
               "CITYSENSE_STREAMS_READINGS_TOPIC": self.readings_topic, "CITYSENSE_STREAMS_APP_ID": app,
               "CITYSENSE_STREAMS_METRICS_PORT": str(port), "CITYSENSE_STREAMS_DATA_DIR": str(self.tmp / name),
               "CITYSENSE_STREAMS_REGISTRY": str(self.registry), "CITYSENSE_STREAMS_BATCH_WITHIN_S": "0.2",
               # the scenario's districts 288 and 290 are communes of the legacy set (province 30)
               "CITYSENSE_STREAMS_AREA_SET": LEGACY_SET}
        proc = ServiceProcess(["streams"], env, self.tmp / f"{name}.log").start()
        self.processes.append(proc)
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 90,
                 what=f"streams worker {name} up (log {proc.log_file})")
        return proc, port

    async def uncommitted(self, app: str) -> dict[int, tuple[int, int]]:
        """Partitions of the readings topic the group `app` has not committed to their end."""
        left = await uncommitted(self.kafka, app, [self.readings_topic])
        return {tp.partition: offsets for tp, offsets in left.items()}

    @staticmethod
    def processed(port: int) -> float:
        return metric_value(http_get(f"http://127.0.0.1:{port}/metrics")[1], "citysense_streams_readings_total")


@pytest.fixture
def streams_env(tmp_path, unique, kafka_bootstrap) -> StreamsEnv:
    registry = tmp_path / "devices.json"
    REGISTRY.write(registry)
    env = StreamsEnv(unique, kafka_bootstrap, tmp_path, f"test{unique}.readings.v1", registry)
    yield env
    for p in env.processes:
        if p.proc and p.proc.poll() is None:
            p.stop()


def topics(prefix: str) -> KafkaTopics:
    return KafkaTopics(prefix)
