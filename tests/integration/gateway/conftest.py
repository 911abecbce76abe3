"""Fixtures for gateway tests: a registry, unique topics and names, gateway subprocesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import KafkaTopics, uplink_topic
from stack.broker_auth import MqttAccess
from tests.integration.helpers import Publisher, ServiceProcess, free_port, http_get, wait_for

DEVICES = [Device(device_id=f"aq-288-{i:02d}", district=288, kind="air_quality") for i in range(1, 21)] + [
    Device(device_id=f"tf-290-{i:02d}", district=290, kind="traffic") for i in range(1, 21)
] + [Device(device_id="aq-thd-01", district=10507, kind="air_quality")]  # a commune of the former district 288


@dataclass
class GatewayEnv:
    unique: str
    root: str
    topics: KafkaTopics
    registry: Path
    access: MqttAccess
    kafka: str
    tmp: Path
    processes: list[ServiceProcess] = field(default_factory=list)

    def topic(self, device: str = "aq-288-01", district: int = 288) -> str:
        return uplink_topic(district, device, self.root)

    def publisher(self, name: str = "pub") -> Publisher:
        """A publisher on the bridge account (may publish to any uplink topic: the gateway's checks are under test)."""
        return Publisher(*self.access.service, f"{name}-{self.unique}", *self.access.bridge)

    def start(self, name: str = "gw1", **extra: str) -> tuple[ServiceProcess, int]:
        port = free_port()
        env = {
            **self.access.gateway_env(),
            "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "CITYSENSE_GATEWAY_TOPIC_ROOT": self.root, "CITYSENSE_GATEWAY_TOPIC_PREFIX": self.topics.prefix,
            "CITYSENSE_GATEWAY_SHARE_GROUP": f"gw-{self.unique}",
            "CITYSENSE_GATEWAY_CLIENT_ID": f"{name}-{self.unique}",
            "CITYSENSE_GATEWAY_REGISTRY": str(self.registry),
            "CITYSENSE_GATEWAY_METRICS_PORT": str(port),
            "CITYSENSE_GATEWAY_SECURITY_INTERVAL_S": "2",
            **extra,
        }
        proc = ServiceProcess(["gateway"], env, self.tmp / f"{name}.log").start()
        self.processes.append(proc)
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60,
                 what=f"gateway {name} healthy (log {proc.log_file})")
        return proc, port


@pytest.fixture
def gw(tmp_path, unique, mqtt_access, kafka_bootstrap) -> GatewayEnv:
    registry = tmp_path / "devices.json"
    DeviceRegistry(DEVICES).write(registry)
    env = GatewayEnv(unique, f"t{unique}", KafkaTopics(f"test{unique}"), registry, mqtt_access, kafka_bootstrap,
                     tmp_path)
    yield env
    for p in env.processes:
        if p.proc and p.proc.poll() is None:
            p.stop()
