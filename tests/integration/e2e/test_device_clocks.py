"""Device clocks in real time, through the whole platform: in one commune (Phường Thành Đông, 10507),
one device 2 min fast, one 3 min slow and one honest publish every 5 s for four minutes. Every honest reading is in its
windows with exact counts (expected from what was published, compared both ways), the slow
device's readings alone are late, and the gateway reports both wrong clocks as device health
(topic, metric, `citysense audit`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import KafkaTopics, uplink_topic
from tests.integration.e2e.conftest import running_platform
from tests.integration.helpers import Publisher, http_get, metric_value, read_topic, values, wait_for

pytestmark = pytest.mark.integration

DEVICES = {"ck-honest": ("pm2_5", 0), "ck-fast": ("pm10", 120), "ck-slow": ("no2", -180)}  # metric, clock offset
CADENCE_S, DURATION_S, LATENESS_S = 5, 240, 30


def minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


@pytest.mark.timeout(600)
async def test_wrong_clocks_make_no_honest_reading_late(tmp_path, unique, database_url, mqtt_access, kafka_bootstrap):
    registry = DeviceRegistry([Device(device_id=d, district=10507, kind="air_quality") for d in DEVICES])
    with running_platform(tmp_path, unique, database_url, mqtt_access, kafka_bootstrap, registry,
                          CITYSENSE_GATEWAY_CLOCK_INTERVAL_S="10") as p:
        pub = Publisher(*mqtt_access.service, f"clk-{unique}", *mqtt_access.bridge)
        published: dict[str, list[datetime]] = {d: [] for d in DEVICES}
        started = time.monotonic()
        last_real = None
        for tick in range(DURATION_S // CADENCE_S):
            time.sleep(max(0.0, started + tick * CADENCE_S - time.monotonic()))
            last_real = datetime.now(timezone.utc).replace(microsecond=0)
            for device, (metric, offset_s) in DEVICES.items():
                ts = last_real + timedelta(seconds=offset_s)
                published[device].append(ts)
                pub.publish(uplink_topic(10507, device, p["root"]),
                            json.dumps({"ts": ts.isoformat(), "seq": tick, "metrics": {metric: 10.0 + tick}}))
        pub.wait_all()
        pub.close()
        # The watermark follows real time (reception): honest windows ending before the last
        # reception minus the lateness are closed.
        horizon = last_real - timedelta(seconds=LATENESS_S)
        expected = Counter(minute(ts) for ts in published["ck-honest"] if minute(ts) + timedelta(minutes=1) <= horizon)
        dsn = p["dsn"]

        def windows(metric: str) -> dict[datetime, int]:
            with psycopg.connect(dsn) as conn:
                return dict(conn.execute("SELECT window_start, count FROM aggregates WHERE window_s = 60 AND "
                                         "metric = %s AND district = 10507", (metric,)).fetchall())

        wait_for(lambda: set(expected) <= set(windows("pm2_5")), 60, what="the honest device's minute windows stored")
        got = windows("pm2_5")
        assert got == dict(expected), f"honest windows {got} != published {dict(expected)}"
        assert 12 in got.values()  # full minutes of a 5-s cadence are there
        def per_device(table: str) -> dict[str, int]:
            with psycopg.connect(dsn) as conn:
                return dict(conn.execute(f"SELECT device_id, count(*) FROM {table} GROUP BY 1").fetchall())

        every = {d: len(ts) for d, ts in published.items()}
        wait_for(lambda: per_device("readings") == every, 60, what=f"every reading stored ({every})")  # late or not
        late = per_device("late_readings")
        assert "ck-honest" not in late and "ck-fast" not in late
        assert late.get("ck-slow", 0) >= len(published["ck-slow"]) - 2  # its own readings, 180 s behind: late
        # The fast device's windows close when real time reaches the time it claims.
        fast = windows("pm10")
        fast_expected = Counter(minute(ts) for ts in published["ck-fast"]
                                if minute(ts) + timedelta(minutes=1) <= horizon)
        assert fast == dict(fast_expected)

        # Device health: the gateway judged both clocks, once each, with the skew.
        events = values(await read_topic(kafka_bootstrap, KafkaTopics(p["root"]).device_health, quiet=2, timeout=30))
        states = {(e["device_id"], e["state"]) for e in events}
        assert states == {("ck-fast", "fast"), ("ck-slow", "slow")}
        skew = {e["device_id"]: e["skew_s"] for e in events}
        assert 119 <= skew["ck-fast"] <= 121 and -182 <= skew["ck-slow"] <= -178
        metrics = http_get(f"http://127.0.0.1:{p['ports']['gateway']}/metrics")[1]
        assert metric_value(metrics, "citysense_gateway_clock_skewed_devices") == 2
        done = subprocess.run([sys.executable, "-m", "cli.main", "audit", "--json"], capture_output=True, text=True,
                              env={**os.environ, "CITYSENSE_DATABASE_URL": dsn}, timeout=60, check=True)
        clocks = {d["device_id"]: d["clock"] for d in json.loads(done.stdout)}
        assert clocks["ck-fast"]["state"] == "fast" and clocks["ck-slow"]["state"] == "slow"
        assert clocks["ck-honest"] is None
