"""Fixtures for storage tests: a fresh migrated database per test, the sink as a subprocess."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
import pytest
from psycopg.types.json import Jsonb
from aiokafka import AIOKafkaProducer

from runtime.kafka_topics import ensure_topics
from storage.registry_db import seed
from telemetry.devices import Device, DeviceRegistry
from telemetry.areas import AreaRegistry
from telemetry.topics import KafkaTopics
from tests.integration.helpers import ServiceProcess, free_port, fresh_database, http_get, metric_value, uncommitted, wait_for

DEVICES = DeviceRegistry([
    Device(device_id="aq-288-01", district=288, kind="air_quality", interval_s=60),
    Device(device_id="aq-290-01", district=290, kind="air_quality", interval_s=60),
    Device(device_id="nz-288-01", district=288, kind="noise", zone="normal", interval_s=60),
    Device(device_id="wl-294-01", district=294, kind="water_level", flood_threshold_cm=450, interval_s=300),
])

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # the fixed data set's "now"


def with_db(dsn: str, db: str, user: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if user:
        netloc = f"{user}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{db}"))


@pytest.fixture
def test_db(database_url, unique) -> str:
    with fresh_database(database_url, f"test_{unique}") as dsn:
        seed(dsn, AreaRegistry.named(), DEVICES)
        yield dsn


@pytest.fixture
def data(test_db) -> str:
    """A fixed data set around NOW (the values the query tests computed by hand)."""
    with psycopg.connect(test_db) as conn, conn.cursor() as cur:
        # aq-288-01: one reading a minute for the last 2 hours, the last 10 minutes calibrating.
        for m in range(120):
            ts = NOW - timedelta(minutes=120 - m)
            status = "calibrating" if m >= 110 else "measuring"
            cur.execute("INSERT INTO readings (ts, device_id, district, kind, status, received_at, pm2_5, pm10) "
                        "VALUES (%s, 'aq-288-01', 288, 'air_quality', %s, %s, %s, %s)",
                        (ts, status, ts, float(m), 2.0 * m))
        # aq-290-01: only 30 readings in the last 24 h, the last one 3 hours ago.
        for m in range(30):
            ts = NOW - timedelta(hours=3, minutes=m)
            cur.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5) "
                        "VALUES (%s, 'aq-290-01', 290, 'air_quality', %s, 15)", (ts, ts))
        # nz-288-01: 60 and 70 dB in the same 5-minute bucket.
        for i, level in enumerate((60.0, 70.0)):
            ts = NOW - timedelta(minutes=4 - i)
            cur.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, noise_laeq) "
                        "VALUES (%s, 'nz-288-01', 288, 'noise', %s, %s)", (ts, ts, level))
        for district, aqi, level in ((288, 176, "Xấu"), (290, 72, "Trung bình")):
            for hours_ago, value in ((2, aqi - 50), (1, aqi)):
                start = NOW - timedelta(hours=hours_ago)
                cur.execute("INSERT INTO aqi (start, \"end\", period, district, aqi, level_vi, level_en, colour, "
                            "dominant, sub_indices) VALUES (%s, %s, 'hour', %s, %s, %s, 'x', '{0,0,0}', 'pm2_5', %s)",
                            (start, start + timedelta(hours=1), district, value, level, Jsonb({"pm2_5": value})))
        for alert_id, resolved in (("open1", None), ("done1", NOW)):
            cur.execute("INSERT INTO alerts (alert_id, district, rule, subject, state, severity, opened_at, updated_at, "
                        "resolved_at) VALUES (%s, 288, 'aqi_bad', 'aqi', %s, 'warning', %s, %s, %s)",
                        (alert_id, "resolved" if resolved else "open", NOW - timedelta(hours=1), NOW, resolved))
        for i, (reason, minutes_ago) in enumerate((("unknown_device", 5), ("unknown_device", 10), ("not_utf8", 20),
                                                   ("out_of_range", 90))):
            cur.execute("INSERT INTO deadletters (received_at, reason, message, mqtt_topic, device_id, payload, "
                        "payload_bytes, payload_truncated, payload_sha256, kafka_partition, kafka_offset) "
                        "VALUES (%s, %s, 'm', 't', %s, '\\x00', 1, false, 'h', 0, %s)",
                        (NOW - timedelta(minutes=minutes_ago), reason, f"d{i % 2}", i))
    return test_db


@dataclass
class SinkEnv:
    unique: str
    kafka: str
    dsn: str
    tmp: Path
    topics: KafkaTopics
    processes: list[ServiceProcess] = field(default_factory=list)

    async def produce(self, topic: str, messages: list[dict | bytes], key: bytes = b"288") -> list:
        """Send, wait for Kafka's acks; returns each record's metadata (partition, offset)."""
        await ensure_topics(self.kafka, self.topics.partitions())
        async with AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all", enable_idempotence=True,
                                    linger_ms=5) as producer:
            futures = [await producer.send(topic, m if isinstance(m, bytes) else orjson.dumps(m),
                                           key=key if isinstance(m, bytes) else str(m.get("district", 288)).encode())
                       for m in messages]
            return [await f for f in futures]

    def start(self, name: str = "sink", **extra: str) -> tuple[ServiceProcess, int]:
        port = free_port()
        env = {"CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": self.kafka, "CITYSENSE_STORAGE_TOPIC_PREFIX": self.topics.prefix,
               "CITYSENSE_STORAGE_DATABASE_URL": self.dsn,
               "CITYSENSE_STORAGE_SINK_DATABASE_URL": with_db(self.dsn, urlsplit(self.dsn).path[1:],
                                                              "citysense_sink", "citysense_sink"),
               "CITYSENSE_STORAGE_GROUP_ID": f"sink-{self.unique}", "CITYSENSE_STORAGE_METRICS_PORT": str(port),
               **extra}
        proc = ServiceProcess(["sink"], env, self.tmp / f"{name}.log").start()
        self.processes.append(proc)
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60, what=f"sink up ({proc.log_file})")
        return proc, port

    async def settled(self, topics: list[str], group: str | None = None, timeout_s: float = 60) -> None:
        """Wait until the sink has committed every record of `topics`: it commits only after the
        database did, so every row is written (a counter of records seen rises before the write)."""
        group = group or f"sink-{self.unique}"
        deadline = asyncio.get_running_loop().time() + timeout_s
        while left := await uncommitted(self.kafka, group, topics):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"sink group {group} has not committed {left} within {timeout_s:.0f} s "
                                     f"(log {self.processes[-1].log_file})")
            await asyncio.sleep(0.2)

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
