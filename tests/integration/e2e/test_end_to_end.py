"""End to end, MQTT to TimescaleDB: a fixed scenario published through the real Mosquitto passes a
real gateway, Kafka, a streams worker and the sink; the rows in TimescaleDB are exactly what the
scenario implies (raw readings, aggregates, AQI, alerts, late readings, rejects). Also: a native
and an NGSI-LD reading published by mosquitto_pub end up in the database."""

from __future__ import annotations

import json
import math
import subprocess
from datetime import timedelta

import psycopg
import pytest

from stack.broker_auth import local_access
from tests.integration.oracle import check_rollups, closed_by, compare_both_ways, sql_windows
from streams.windows import WindowConfig
from tests.aqi_by_hand import hourly as hand_hourly
from telemetry.areas import LEGACY_SET, AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import uplink_topic
from tests.integration.e2e.conftest import running_platform
from tests.integration.helpers import Publisher, wait_for
from tests.integration.streams.scenario import HOURS, PM_BY_HOUR, REGISTRY, base_time, build


EXTRA = [Device(device_id="aq-291-01", district=291, kind="air_quality"),
         Device(device_id="nz-291-01", district=291, kind="noise", zone="normal")]
CFG = WindowConfig(sizes_s=(60, 900, 3600), lateness_s=30)


@pytest.fixture
def platform(tmp_path, unique, database_url, mqtt_access, kafka_bootstrap, stack_settings):
    # the two devices that publish with their own credentials below, provisioned before anything
    # runs (a new account reloads the broker by restarting it)
    passwords = local_access(stack_settings, ["aq-291-01", "nz-291-01"]).devices
    # the legacy set: districts 288, 290, 291 of Hải Dương before the 2025 merger, province 30
    with running_platform(tmp_path, unique, database_url, mqtt_access, kafka_bootstrap,
                          DeviceRegistry([*REGISTRY, *EXTRA]), area_set=LEGACY_SET) as p:
        yield {**p, "passwords": passwords}


def rows(dsn: str, query: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


def test_mqtt_to_timescaledb(platform, mqtt_access):
    dsn, root = platform["dsn"], platform["root"]
    t0 = base_time()
    scenario, late_index = build(t0)
    pub = Publisher(*mqtt_access.service, f"e2e-pub-{root}", *mqtt_access.bridge)
    for r in scenario:
        payload = {"ts": r["ts"], "seq": r["seq"], "metrics": r["metrics"]}
        pub.publish(uplink_topic(r["district"], r["device_id"], root), json.dumps(payload))
    hostile = [(uplink_topic(288, "ghost-1", root), b'{"ts": 1, "metrics": {}}', "unknown_device"),
               (uplink_topic(290, "aq-288-01", root), json.dumps({"ts": r["ts"], "metrics": {"pm2_5": 1}}).encode(),
                "district_mismatch"),
               (uplink_topic(288, "aq-288-01", root), b'{"ts": "' + r["ts"].encode() + b'", "metrics": {"o3": NaN}}',
                "not_finite")]
    for topic, payload, _ in hostile:
        pub.publish(topic, payload)
    pub.wait_all()
    pub.close()
    # Two readings from a client nobody here wrote: mosquitto_pub, native and NGSI-LD, each device
    # with its own credentials on the device listener.
    passwords = platform["passwords"]
    at = t0 + timedelta(minutes=30)
    native = json.dumps({"ts": at.isoformat(), "metrics": {"pm2_5": 33.3, "co": 0.9}, "units": {"co": "mg/m3"}})
    ngsi = json.dumps({"id": "urn:ngsi-ld:NoiseLevelObserved:nz-291-01", "type": "NoiseLevelObserved",
                       "LAeq": {"type": "Property", "value": 58.5},
                       "dateObservedTo": {"type": "Property", "value": {"@type": "DateTime",
                                                                         "@value": at.isoformat()}}})
    for device, message in (("aq-291-01", native), ("nz-291-01", ngsi)):
        subprocess.run(["mosquitto_pub", "-h", mqtt_access.device[0], "-p", str(mqtt_access.device[1]), "-q", "1",
                        "-u", device, "-P", passwords[device],
                        "-t", uplink_topic(291, device, root), "-m", message], check=True, timeout=30)

    wait_for(lambda: rows(dsn, "SELECT count(*) FROM readings")[0][0] == len(scenario) + 2, 120,
             what="every reading stored")
    wait_for(lambda: rows(dsn, "SELECT count(*) FROM late_readings")[0][0] == 3, 60, what="the late readings stored")
    # The oracle: SQL over the stored raw readings (tests/integration/oracle.py), not the streams' code.
    expected = sql_windows(dsn, CFG.sizes_s, districts=(288, 290))
    watermarks = closed_by(dsn, CFG.lateness_s)
    must_close = [k for k, w in expected.items() if w["end"] <= watermarks[k[0]]]
    wait_for(lambda: rows(dsn, "SELECT count(*) FROM aggregates WHERE district IN (288, 290)")[0][0] >= len(must_close),
             120, what=f"the {len(must_close)} windows the watermark closed stored")
    wait_for(lambda: rows(dsn, "SELECT count(*) FROM alerts WHERE rule = 'aqi_bad' AND state = 'resolved'")[0][0] == 1,
             60, what="the AQI alert resolved")
    # The province's roll-ups take two more hops (commune partials -> roll-up agent -> sink) after the
    # communes' windows and AQI are stored: wait for them, bounded, before comparing.
    city_hours = "SELECT count(*) FROM aqi WHERE district = 30 AND period = 'hour'"
    wait_for(lambda: rows(dsn, city_hours)[0][0] >= HOURS - 1, 60, what="the province's hourly AQI rolled up")

    # Raw readings: every scenario reading once, with its values (the late ones too: storage keeps them raw).
    count, pm_sum, seqs = rows(dsn, "SELECT count(*), sum(pm2_5), count(DISTINCT (device_id, seq)) FROM readings "
                                    "WHERE district IN (288, 290)")[0]
    assert count == len(scenario) and seqs == len(scenario)
    assert pm_sum == pytest.approx(sum(r["metrics"].get("pm2_5", 0) for r in scenario))
    # The mosquitto_pub readings, converted to canonical units.
    assert rows(dsn, "SELECT pm2_5, co, format FROM readings WHERE device_id = 'aq-291-01'") == [(33.3, 900.0, "native")]
    assert rows(dsn, "SELECT noise_laeq, format FROM readings WHERE device_id = 'nz-291-01'") == [(58.5, "ngsi-ld")]

    # Aggregates: exactly the windows of the stored readings, each one emitted, none made up.
    emitted = [{"district": d, "metric": m, "window_s": w, "window_start": s.isoformat().replace("+00:00", "Z"),
                "count": c, "min": lo, "max": hi, "sum": sm, "mean": mean, "excluded": ex}
               for d, m, w, s, c, lo, hi, sm, mean, ex in rows(dsn, "SELECT district, metric, window_s, window_start, "
                                                                    "count, min, max, sum, mean, excluded FROM aggregates "
                                                                    "WHERE district IN (288, 290)")]
    assert compare_both_ways(expected, emitted, watermarks) == []
    assert len(must_close) > 500 and {k[1] for k in must_close} >= {"pm2_5", "noise_laeq", "avg_speed"}
    # The province's roll-up (30), as stored: equal to SQL over the raw readings of its districts.
    def city_check() -> tuple[list[str], int]:
        stored = [{"district": d, "metric": m, "window_s": w, "window_start": s.isoformat().replace("+00:00", "Z"),
                   "count": c, "min": lo, "max": hi, "sum": sm, "mean": mean, "excluded": ex, "level": lv}
                  for d, m, w, s, c, lo, hi, sm, mean, ex, lv in rows(
                      dsn, "SELECT district, metric, window_s, window_start, count, min, max, sum, mean, excluded, "
                           "level FROM aggregates WHERE level = 'city'")]
        return check_rollups(dsn, CFG.sizes_s, stored, watermarks, AreaRegistry.named(LEGACY_SET), "city")

    wait_for(lambda: not city_check()[0], 60, what="the province's windows rolled up")
    problems, compared = city_check()
    assert problems == [] and compared > 200  # up to when 291's one reading at t0 + 30 min closed its windows
    hourly_pm = {r[0]: r[1] for r in rows(dsn, "SELECT window_start, mean FROM aggregates WHERE district = 288 "
                                               "AND metric = 'pm2_5' AND window_s = 3600")}
    assert [hourly_pm[t0 + timedelta(hours=h)] for h in range(HOURS)] == PM_BY_HOUR

    # Hourly AQI, as the calculator gives for those hourly means.
    aqi = [r[0] for r in rows(dsn, "SELECT aqi FROM aqi WHERE district = 288 AND period = 'hour' ORDER BY start")]
    history, want = [], []
    for h in range(HOURS):
        history.insert(0, PM_BY_HOUR[h])
        want.append(hand_hourly({"pm2_5": history[:12], "pm10": [50.0] * len(history)}, {"o3": 60.0}))
    assert aqi == want[1:]
    # The province's hourly AQI: its worst district's (288 is the only one with an hourly PM series).
    assert rows(dsn, "SELECT aqi, worst_area, level, areas FROM aqi WHERE district = 30 AND period = 'hour' "
                     "ORDER BY start") == [(a, 288, "city", 1) for a in want[1:]]

    # Alerts: one AQI alert (its later state stored), congestion opened and resolved on the counter.
    [(state, peak)] = rows(dsn, "SELECT state, peak FROM alerts WHERE rule = 'aqi_bad'")
    assert state == "resolved" and peak == max(want[1:])
    assert rows(dsn, "SELECT subject, state FROM alerts WHERE rule = 'congestion'") == [("tf-290-01", "resolved")]

    # Late readings and rejects.
    assert sorted(r[0] for r in rows(dsn, "SELECT (reading->>'seq')::int FROM late_readings")) == [10_000, 10_001, 10_002]
    wait_for(lambda: rows(dsn, "SELECT count(*) FROM deadletters")[0][0] == len(hostile), 30, what="rejects stored")
    assert sorted(r[0] for r in rows(dsn, "SELECT reason FROM deadletters")) == sorted(h[2] for h in hostile)
    assert not math.isnan(pm_sum)
