"""Fixtures for storage tests: a fresh migrated database per test, the sink as a subprocess."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from runtime.kafka_topics import ensure_topics
from storage.registry_db import seed
from telemetry.devices import Device, DeviceRegistry
from telemetry.districts import DistrictRegistry
from telemetry.topics import KafkaTopics
from tests.integration.helpers import ServiceProcess, free_port, fresh_database, http_get, metric_value, wait_for

DEVICES = DeviceRegistry([
    Device(device_id="aq-288-01", district=288, kind="air_quality", interval_s=60),
    Device(device_id="aq-290-01", district=290, kind="air_quality", interval_s=60),
    Device(device_id="nz-288-01", district=288, kind="noise", zone="normal", interval_s=60),
    Device(device_id="wl-294-01", district=294, kind="water_level", flood_threshold_cm=450, interval_s=300),
])


def with_db(dsn: str, db: str, user: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if user:
        netloc = f"{user}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{db}"))


@pytest.fixture
def test_db(database_url, unique) -> str:
    with fresh_database(database_url, f"test_{unique}") as dsn:
        seed(dsn, DistrictRegistry.default(), DEVICES)
        yield dsn


@dataclass
class SinkEnv:
    unique: str
    kafka: str
    dsn: str
    tmp: Path
    topics: KafkaTopics
    processes: list[ServiceProcess] = field(default_factory=list)

    async def produce(self, topic: str, messages: list[dict], key: bytes = b"288") -> None:
        await ensure_topics(self.kafka, self.topics.partitions())
        async with AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all", enable_idempotence=True,
                                    linger_ms=5) as producer:
            futures = [await producer.send(topic, orjson.dumps(m), key=str(m.get("district", 288)).encode())
                       for m in messages]
            for f in futures:
                await f

    def start(self, name: str = "sink") -> tuple[ServiceProcess, int]:
        port = free_port()
        env = {"CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": self.kafka, "CITYSENSE_STORAGE_TOPIC_PREFIX": self.topics.prefix,
               "CITYSENSE_STORAGE_DATABASE_URL": self.dsn,
               "CITYSENSE_STORAGE_SINK_DATABASE_URL": with_db(self.dsn, urlsplit(self.dsn).path[1:],
                                                              "citysense_sink", "citysense_sink"),
               "CITYSENSE_STORAGE_GROUP_ID": f"sink-{self.unique}", "CITYSENSE_STORAGE_METRICS_PORT": str(port)}
        proc = ServiceProcess(["sink"], env, self.tmp / f"{name}.log").start()
        self.processes.append(proc)
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60, what=f"sink up ({proc.log_file})")
        return proc, port

    @staticmethod
    def consumed(port: int) -> float:
        return metric_value(http_get(f"http://127.0.0.1:{port}/metrics")[1], "citysense_sink_records_total")


@pytest.fixture
def sink_env(test_db, unique, kafka_bootstrap, tmp_path) -> SinkEnv:
    env = SinkEnv(unique, kafka_bootstrap, test_db, tmp_path, KafkaTopics(f"test{unique}"))
    yield env
    for p in env.processes:
        if p.proc and p.proc.poll() is None:
            p.stop()
