"""The API as a real process on a fresh database with a known data set (values by hand in the tests),
and keys of each role (one revoked)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from api import keys
from storage.databases import as_role
from storage.registry_db import seed
from telemetry.areas import AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from tests.integration.helpers import ServiceProcess, free_port, fresh_database, http_get, wait_for

# 00:00 UTC = 07:00 local (its hours are one local day), three days ago: within the "last 30 days" that
# devices' last readings are looked up in, whatever the date the tests run on
T = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
DEVICES = DeviceRegistry([
    Device(device_id="aq-a", district=10507, kind="air_quality", lat=20.96038, lon=106.32625), Device(device_id="nz-a", district=10507, kind="noise"),
    Device(device_id="nz-b", district=10525, kind="noise"), Device(device_id="aq-c", district=10546, kind="air_quality"),
])


def load(dsn: str) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for m in range(60):  # aq-a: pm2_5 = m, one a minute from T
            ts = T + timedelta(minutes=m)
            cur.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5) "
                        "VALUES (%s, 'aq-a', 10507, 'air_quality', %s, %s)", (ts, ts, float(m)))
        for hour, (count, mean) in enumerate(((60, 60.0), (60, 70.0))):  # group 288's hourly noise roll-ups
            start = T + timedelta(hours=hour)
            cur.execute("INSERT INTO aggregates (window_start, window_end, window_s, district, metric, unit, count, "
                        "min, max, sum, mean, level, parent, areas) VALUES (%s, %s, 3600, 288, 'noise_laeq', "
                        "'dB(A)', %s, %s, %s, %s, %s, 'group', 31, 2)",
                        (start, start + timedelta(hours=1), count, mean - 5, mean + 5, mean * count, mean))
        for area, aqi, level, worst, n in ((10507, 120, "commune", None, None), (10525, 160, "commune", None, None),
                                           (288, 160, "group", 10525, 2)):
            cur.execute("INSERT INTO aqi (start, \"end\", period, district, aqi, level_vi, level_en, colour, dominant, "
                        "sub_indices, nowcast, level, parent, worst_area, areas) VALUES (%s, %s, 'hour', %s, %s, "
                        "'Xấu', 'Bad', '{255,0,0}', 'pm2_5', %s, %s, %s, %s, %s, %s)",
                        (T, T + timedelta(hours=1), area, aqi, Jsonb({"pm2_5": aqi}), Jsonb({"pm2_5": 70.0}), level,
                         288 if level == "commune" else 31, worst, n))
        for alert_id, area, resolved in (("al1", 10525, None), ("al2", 10546, T + timedelta(hours=2))):
            cur.execute("INSERT INTO alerts (alert_id, district, rule, subject, state, severity, opened_at, updated_at, "
                        "resolved_at) VALUES (%s, %s, 'aqi_bad', 'aqi', %s, 'warning', %s, %s, %s)",
                        (alert_id, area, "resolved" if resolved else "open", T, resolved or T + timedelta(hours=1),
                         resolved))
        for i in range(3):
            cur.execute("INSERT INTO deadletters (received_at, reason, message, mqtt_topic, device_id, district, "
                        "payload, payload_bytes, payload_truncated, payload_sha256, kafka_partition, kafka_offset) "
                        "VALUES (now() - interval '1 hour', %s, 'm', 't', 'aq-a', 10507, '\\x00', 1, false, %s, 0, %s)",
                        ("out_of_range" if i < 2 else "not_finite", f"h{i}", i))
        cur.execute("INSERT INTO device_health (at, device_id, district, kind, state, skew_s, tolerance_s, gateway) "
                    "VALUES (%s, 'aq-a', 10507, 'clock_skew', 'fast', 120.0, 60.0, 'gw')", (T,))


@dataclass
class Api:
    url: str
    dsn: str
    prefix: str
    tokens: dict[str, str]
    proc: ServiceProcess

    def get(self, path: str, role: str | None = "viewer", **params) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.get(self.url + path, params=params, headers=headers, timeout=10)

    def post(self, path: str, role: str = "operator", body: dict | None = None) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers={"Authorization": f"Bearer {self.tokens[role]}"},
                          timeout=10)


@contextmanager
def running_api(tmp_path, unique: str, database_url: str, kafka_bootstrap: str):
    with fresh_database(database_url, f"api_{unique}") as dsn:
        seed(dsn, AreaRegistry.named(), DEVICES)
        load(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            tokens = {role: keys.create(conn, f"{role}-team", keys.Role.named(role))[1]
                      for role in ("viewer", "operator", "admin")}
            revoked_id, tokens["revoked"] = keys.create(conn, "gone", keys.Role.OPERATOR)
            keys.revoke(conn, revoked_id)
        port = free_port()
        prefix = f"api{unique}"
        proc = ServiceProcess(["api"], {"CITYSENSE_API_PORT": str(port),
                                        "CITYSENSE_API_READ_DATABASE_URL": as_role(dsn, "citysense_ro"),
                                        "CITYSENSE_API_ACTIONS_DATABASE_URL": as_role(dsn, "citysense_api"),
                                        "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                                        "CITYSENSE_TOPIC_PREFIX": prefix,
                                        "CITYSENSE_API_EXPORT_PAGE_ROWS": "7"},  # exports of many pages
                             tmp_path / "api.log").start()
        try:
            wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60,
                     what=f"the API healthy (log {proc.log_file})")
            yield Api(f"http://127.0.0.1:{port}", dsn, prefix, tokens, proc)
        finally:
            proc.stop()


@pytest.fixture
def api(tmp_path, unique, database_url, kafka_bootstrap):
    with running_api(tmp_path, unique, database_url, kafka_bootstrap) as a:
        yield a


@pytest.fixture(scope="module")
def module_api(tmp_path_factory, names_made, database_url, kafka_bootstrap):
    """One API for a module's tests (schemathesis makes one test per operation)."""
    token = uuid.uuid4().hex[:10]
    names_made.add(token)
    with running_api(tmp_path_factory.mktemp("api"), token, database_url, kafka_bootstrap) as a:
        yield a
