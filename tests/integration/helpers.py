"""Helpers for integration tests: run a service as a real subprocess, publish over MQTT, read Kafka."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import uuid
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """`citysense <command>` in a subprocess with its own environment, output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log_file: Path, prefix: list[str] = ()) -> None:
        self.command, self.env, self.log_file, self.prefix = command, env, log_file, list(prefix)
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        """Started (after `prefix`, e.g. `ip netns exec <name>`, which execs it: the same process)."""
        self.log = open(self.log_file, "ab")
        self.proc = subprocess.Popen([*self.prefix, sys.executable, "-m", "cli.main", *self.command],
                                     env={**os.environ, **self.env}, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def rss_mb(self) -> float:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0.0  # exited
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-n:])


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def metric_value(metrics_text: str, name: str, labels: str = "") -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(name + (labels or "")) and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            if head == name or head.startswith(name + "{"):
                total += float(value)
    return total


def wait_for(check, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Publisher:
    """A paho MQTT 5 publisher at QoS 1 that waits for the broker's PUBACK of everything it sent."""

    def __init__(self, host: str, port: int, client_id: str, username: str | None = None,
                 password: str | None = None) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        connected = threading.Event()
        self.client.on_connect = lambda *a: connected.set()
        self.client.connect(host, port)
        self.client.loop_start()
        if not connected.wait(10):
            raise AssertionError(f"publisher could not connect to MQTT {host}:{port}")
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: bytes | str) -> None:
        self.infos.append(self.client.publish(topic, payload, qos=1))

    def wait_all(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for info in self.infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "broker did not acknowledge a QoS 1 publish"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def read_topic(bootstrap: str, topic: str, *, until: int | None = None, timeout: float = 30,
                     quiet: float = 2.0, distinct=None) -> list:
    """Every record of `topic` from the beginning (a fresh consumer group): stops at `until` records
    (`until` distinct values of `distinct(record)` when given: duplicates must not end the read early),
    or after `quiet` seconds without a new one, or at `timeout`. The topic must exist."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", group_id=f"test-reader-{uuid.uuid4().hex[:12]}")
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        records, last_new, assigned, seen = [], time.monotonic(), False, set()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                records += recs
                last_new = time.monotonic()
                if distinct is not None:
                    seen.update(distinct(r) for r in recs)
            if until is not None and (len(seen) if distinct is not None else len(records)) >= until:
                break
            if not assigned and consumer.assignment():  # quiet counts from the assignment, not the start
                assigned, last_new = True, time.monotonic()
            elif until is None and assigned and time.monotonic() - last_new > quiet:
                break
        return records
    finally:
        await consumer.stop()


async def uncommitted(bootstrap: str, group: str, topics: list[str]) -> dict[TopicPartition, tuple[int, int]]:
    """Partitions of `topics` the consumer group has not committed to their end: tp -> (committed, end).

    A service commits only after it has done a record's work (stored it, applied it), so an empty
    answer means every record produced so far has been handled: what a test waits on, not a counter.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    async with AIOKafkaConsumer(bootstrap_servers=bootstrap) as consumer:
        ends = await consumer.end_offsets(partitions) if partitions else {}
    done = {tp: committed[tp].offset if tp in committed else 0 for tp in ends}
    return {tp: (done[tp], end) for tp, end in ends.items() if done[tp] < end}


def values(records) -> list[dict]:
    return [json.loads(r.value) for r in records]


def fresh_database(database_url: str, name: str):
    """A new migrated database (TimescaleDB comes from template1), dropped afterwards. Yields its DSN."""
    from storage.databases import scratch

    return scratch(database_url, name)
