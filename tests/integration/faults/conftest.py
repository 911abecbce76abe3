"""The fault suite's platform: gateway, streams worker and sink as subprocesses on the real stack,
a fresh database and topics per fault, and the table of results printed at the end of the run."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stack.broker_auth import MqttAccess, local_access
from stack.netns import Namespace
from storage.registry_db import seed
from telemetry.devices import Device, DeviceRegistry
from telemetry.areas import AreaRegistry
from tests.integration.helpers import ServiceProcess, fresh_database, free_port, http_get, wait_for

# one commune in each former district of Hải Dương (groups 288, 290–300 of hai-phong-2025)
DISTRICTS = [AreaRegistry.named().communes_under(g)[0].code for g in (288, *range(290, 301))]
RESULTS: list[dict] = []


@dataclass
class Platform:
    unique: str
    root: str
    dsn: str
    access: MqttAccess
    env: dict[str, str]
    tmp: Path
    devices: list[tuple[str, int]]
    procs: dict[str, ServiceProcess] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # a service's own (its Kafka user)
    # an instance placed in a network namespace (`streams-2`): its namespace, and its own variables
    zones: dict[str, Namespace] = field(default_factory=dict)
    instance_env: dict[str, dict[str, str]] = field(default_factory=dict)

    def start(self, name: str) -> None:
        """`gateway`, `streams`, `sink`, `api`, or a second instance (`gateway-2`, `streams-2`): its own client id
        and data folder, the same group (and, for gateways, the MQTT share group)."""
        command, _, instance = name.partition("-")
        port = self.ports.setdefault(name, free_port())
        port_setting = {"sink": "STORAGE_METRICS_PORT", "api": "API_PORT"}.get(command, f"{command.upper()}_METRICS_PORT")
        penv = {**self.env, **self.service_env.get(command, {}), f"CITYSENSE_{port_setting}": str(port)}
        if instance:
            penv["CITYSENSE_GATEWAY_CLIENT_ID"] = f"{self.env['CITYSENSE_GATEWAY_CLIENT_ID']}-{instance}"
            penv["CITYSENSE_STREAMS_DATA_DIR"] = f"{self.env['CITYSENSE_STREAMS_DATA_DIR']}-{instance}"
        zone = self.zones.get(name)
        if zone:
            penv[f"CITYSENSE_{command.upper()}_METRICS_HOST"] = zone.address
        penv |= self.instance_env.get(name, {})
        self.procs[name] = ServiceProcess([command], penv, self.tmp / f"{name}.log",
                                          prefix=zone.prefix() if zone else ()).start()

    def host(self, name: str) -> str:
        return self.zones[name].address if name in self.zones else "127.0.0.1"

    def wait_healthy(self, name: str, timeout: float = 120) -> None:
        port, proc = self.ports[name], self.procs[name]
        wait_for(lambda: http_get(f"http://{self.host(name)}:{port}/healthz")[0] == 200, timeout,
                 what=f"{name} healthy (log {proc.log_file})")

    def kill(self, name: str) -> None:
        self.procs[name].kill()


@contextmanager
def running_platform(tmp_path, unique, database_url, stack_settings, kafka_bootstrap,
                     service_env: dict[str, dict[str, str]] | None = None, before_start=None, pairs: bool = False,
                     access_for=None):
    """Gateway, streams worker and sink on a fresh database; `service_env` per service (a Kafka user
    each, on the production rehearsal), `before_start(platform)` (its topics and ACLs); `pairs`: two
    gateways in an MQTT share group and two streams workers, as in production; `access_for(devices)`:
    the MQTT broker and accounts (default: the local stack's Mosquitto)."""
    devices = [(f"ft{unique[:6]}-{d}-{i}", d) for d in DISTRICTS for i in (1, 2)]
    registry = DeviceRegistry([Device(device_id=dev, district=d, kind="air_quality") for dev, d in devices])
    registry.write(tmp_path / "devices.json")
    access = (access_for or (lambda ids: local_access(stack_settings, ids)))([dev for dev, _ in devices])
    with fresh_database(database_url, f"faults_{unique}") as dsn:
        seed(dsn, AreaRegistry.named(), registry)
        root = f"ft{unique}"
        env = {**access.gateway_env(), "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
               "CITYSENSE_DATABASE_URL": dsn, "CITYSENSE_REGISTRY": str(tmp_path / "devices.json"),
               "CITYSENSE_TOPIC_PREFIX": root, "CITYSENSE_GATEWAY_TOPIC_ROOT": root,
               "CITYSENSE_GATEWAY_CLIENT_ID": f"gw-{unique}",
               "CITYSENSE_GATEWAY_SESSION_EXPIRY_S": "600", "CITYSENSE_STREAMS_APP_ID": f"ft-streams-{unique}",
               "CITYSENSE_STREAMS_DATA_DIR": str(tmp_path / "faust"), "CITYSENSE_STREAMS_BATCH_WITHIN_S": "0.2",
               # event time runs 60x faster than the wall clock: 10 event minutes of lateness = 10 s
               "CITYSENSE_STREAMS_ALLOWED_LATENESS_S": "600",
               "CITYSENSE_STORAGE_GROUP_ID": f"ft-sink-{unique}",
               **({"CITYSENSE_GATEWAY_SHARE_GROUP": f"ft-gw-{unique}"} if pairs else {})}
        p = Platform(unique, root, dsn, access, env, tmp_path, devices, service_env=service_env or {})
        if before_start:
            before_start(p)
        try:
            names = ("sink", "streams", "streams-2", "gateway", "gateway-2") if pairs else ("sink", "streams", "gateway")
            for name in names:
                p.start(name)
            for name in names:
                p.wait_healthy(name)
            yield p
        finally:
            for proc in p.procs.values():
                if proc.proc and proc.proc.poll() is None:
                    proc.stop()


@pytest.fixture
def platform(tmp_path, unique, database_url, stack_settings, kafka_bootstrap):
    with running_platform(tmp_path, unique, database_url, stack_settings, kafka_bootstrap) as p:
        yield p


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    tr = terminalreporter
    tr.section("fault suite: every message the broker acknowledged, stored exactly once")
    tr.write_line(f"{'fault':28s} {'published':>9s} {'stored':>7s} {'missing':>7s} {'extra':>5s} {'redeliv':>7s} "
                  f"{'late':>5s} {'windows':>7s} {'wrong':>5s} {'recovery':>9s} {'settled':>8s}")
    for r in RESULTS:
        tr.write_line(f"{r['fault']:28s} {r['published']:9d} {r['stored']:7d} {r['missing']:7d} {r['extra']:5d} "
                      f"{r['redelivered']:7d} {r['late']:5d} {r['windows']:7d} {r['wrong_windows']:5d} {r['recovery_s']:8.1f}s "
                      f"{r['settled_s']:7.1f}s")
    tr.write_line("published = acknowledged by the broker (PUBACK); missing / extra = acknowledged but not stored / "
                  "stored but never acknowledged; redeliv = duplicate deliveries storage removed (readings.deliveries); "
                  "late = readings the streams found late (late_readings: in no window); windows = stored aggregates, compared both ways with SQL over the stored readings "
                  "(tests/integration/oracle.py); recovery = from the end of the fault until every reading "
                  "acknowledged by then was stored; settled = then until the windows and roll-ups equal SQL")
