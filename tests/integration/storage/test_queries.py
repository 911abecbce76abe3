"""The operations centre's queries on a fixed data set (values computed by hand)."""

from __future__ import annotations

import math
from pathlib import Path
from datetime import timedelta

import psycopg
import pytest

import telemetry
from storage import queries

from tests.integration.storage.conftest import NOW

# a commune of the former Chí Linh (290), read from the packaged CSV (not through the code under test)
CHI_LINH_COMMUNE = next(int(line.split(",")[0]) for line in
                        (Path(telemetry.__file__).parent / "data" / "areas" / "hai-phong-2025.csv")
                        .read_text(encoding="utf-8").splitlines()[1:] if line.split(",")[4] == "290")


def test_latest(data):
    with queries.connect(data) as conn:
        rows = {r["metric"]: r for r in queries.latest(conn, 288)}
    assert rows["pm2_5"]["value"] == 109.0 and rows["pm10"]["value"] == 218.0  # calibrating ones excluded
    assert rows["noise_laeq"]["value"] == 70.0 and rows["noise_laeq"]["device_id"] == "nz-288-01"
    assert "water_level" not in rows


def test_series_uses_time_buckets_and_energy_mean(data):
    with queries.connect(data) as conn:
        pm = queries.series(conn, 288, "pm2_5", NOW - timedelta(hours=2), NOW, "30 minutes")
        noise = queries.series(conn, 288, "noise_laeq", NOW - timedelta(minutes=10), NOW, "5 minutes")
    assert [r["count"] for r in pm] == [30, 30, 30, 20]
    assert pm[0]["mean"] == pytest.approx(sum(range(30)) / 30) and pm[3]["max"] == 109
    [bucket] = noise
    assert bucket["mean"] == pytest.approx(10 * math.log10((10**6 + 10**7) / 2))


def test_aqi_ranking_alerts_and_rejects(data):
    with queries.connect(data) as conn:
        ranking = queries.aqi_ranking(conn)
        open_alerts = queries.alerts(conn, only_open=True)
        rejects = queries.rejects(conn, timedelta(hours=1), now=NOW)
    # seeded with today's set: 288 and 290 are the groups of the former districts (their names marked "(cũ)")
    assert [(r["district"], r["aqi"], r["name"]) for r in ranking] == [(288, 176, "Thành phố Hải Dương (cũ)"),
                                                                     (290, 72, "Thành phố Chí Linh (cũ)")]
    assert [a["alert_id"] for a in open_alerts] == ["open1"]
    assert [(r["reason"], r["count"]) for r in rejects] == [("unknown_device", 2), ("not_utf8", 1)]


def test_silent_devices(data):
    with queries.connect(data) as conn:
        silent = {r["device_id"]: r["last_seen"] for r in queries.silent(conn, 30, now=NOW)}
    assert set(silent) == {"aq-290-01", "wl-294-01"}
    assert silent["wl-294-01"] is None and silent["aq-290-01"] == NOW - timedelta(hours=3)


def test_completeness(data):
    with queries.connect(data) as conn:
        report = queries.completeness(conn, timedelta(hours=24), now=NOW)
    devices = {d["device_id"]: d for d in report["devices"]}
    assert devices["aq-288-01"]["expected"] == 1440 and devices["aq-288-01"]["received"] == 120
    assert devices["aq-288-01"]["complete"] == round(120 / 1440, 4)
    assert devices["aq-288-01"]["flagged_share"] == round(10 / 120, 4)
    assert devices["wl-294-01"]["expected"] == 288 and devices["wl-294-01"]["complete"] == 0
    district_288 = next(d for d in report["districts"] if d["district"] == 288)
    assert district_288["expected"] == 2880 and district_288["received"] == 122


def test_a_group_s_queries_cover_its_communes_and_its_legacy_rows(data):
    """Group 288 (Thành phố Hải Dương (cũ)) = its 8 communes + rows stored under 288 itself; a commune of
    Chí Linh (290) stays out. Expected values by hand from the rows inserted here and in `data`."""
    with psycopg.connect(data) as conn:
        conn.execute("INSERT INTO devices (device_id, district, kind) VALUES ('aq-thd-01', 10507, 'air_quality'), "
                     "('aq-hd-01', 10525, 'air_quality'), ('aq-cl-01', %s, 'air_quality')", (CHI_LINH_COMMUNE,))
        for i, (device, area, value) in enumerate((("aq-thd-01", 10507, 400.0), ("aq-hd-01", 10525, 500.0),
                                                   ("aq-cl-01", CHI_LINH_COMMUNE, 900.0))):
            ts = NOW - timedelta(minutes=5 + i)
            conn.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5) "
                         "VALUES (%s, %s, %s, 'air_quality', %s, %s)", (ts, device, area, ts, value))
        conn.execute("INSERT INTO alerts (alert_id, district, rule, subject, state, severity, opened_at, updated_at) "
                     "VALUES ('cl1', %s, 'aqi_bad', 'aqi', 'open', 'warning', %s, %s)",
                     (CHI_LINH_COMMUNE, NOW, NOW))
    with queries.connect(data) as conn:
        assert queries.level(conn, 288) == "group" and len(queries.subtree(conn, 288)) == 9
        # aq-288-01's measuring minutes 0..109 between NOW-2h and NOW-10min (pm2_5 = m) + 400 + 500
        [bucket] = queries.series(conn, 288, "pm2_5", NOW - timedelta(hours=2), NOW, "2 hours")
        assert bucket["count"] == 112 and bucket["max"] == 500.0
        assert float(bucket["mean"]) == pytest.approx((sum(range(110)) + 400 + 500) / 112)
        latest = {r["metric"]: r for r in queries.latest(conn, 288)}
        assert (latest["pm2_5"]["device_id"], latest["pm2_5"]["value"]) == ("aq-thd-01", 400.0)
        assert [a["alert_id"] for a in queries.alerts(conn, only_open=True, area=288)] == ["open1"]
        assert [a["alert_id"] for a in queries.alerts(conn, only_open=True, area=290)] == ["cl1"]
        assert {r["district"] for r in queries.aqi_ranking(conn, area=290)} == {290}
        report = queries.completeness(conn, timedelta(hours=24), now=NOW, area=288)
        assert {d["device_id"] for d in report["devices"]} >= {"aq-thd-01", "aq-hd-01"}
        assert all(d["district"] in queries.subtree(conn, 288) for d in report["devices"])
        # the city holds everything
        city = queries.series(conn, 31, "pm2_5", NOW - timedelta(hours=4), NOW, "4 hours")
        assert sum(b["count"] for b in city) == 112 + 1 + 30


def test_completeness_per_commune_and_hour_and_rejects_per_area(data):
    """By hand: devices of two communes of group 288 and one of Chí Linh; NOW = 12:00, so the whole
    hours of the last 3 h are 09:00, 10:00, 11:00."""
    with psycopg.connect(data) as conn:
        conn.execute("INSERT INTO devices (device_id, district, kind, interval_s) VALUES "
                     "('aq-c1', 10507, 'air_quality', 300), ('wl-c1', 10507, 'water_level', 600), "
                     "('aq-c2', 10525, 'air_quality', 300), ('aq-c3', %s, 'air_quality', 300)", (CHI_LINH_COMMUNE,))
        rows = []
        for minute in range(0, 180, 5):  # aq-c1: every 5 min for 3 h, but none in the 10:00 hour
            if not 60 <= minute < 120:
                rows.append(("aq-c1", 10507, NOW - timedelta(hours=3) + timedelta(minutes=minute)))
        for minute in range(0, 60, 10):  # wl-c1: 11:00 complete, plus a repeat of one instant (counted once)
            rows.append(("wl-c1", 10507, NOW - timedelta(hours=1) + timedelta(minutes=minute)))
        rows.append(("aq-c2", 10525, NOW - timedelta(minutes=30)))  # one reading in 11:00
        rows += [("aq-c3", CHI_LINH_COMMUNE, NOW - timedelta(minutes=m)) for m in range(5, 65, 5)]
        for device, area, ts in rows:
            conn.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5) "
                         "VALUES (%s, %s, %s, 'air_quality', %s, 1)", (ts, device, area, ts))
        conn.execute("INSERT INTO readings (ts, device_id, district, kind, status, received_at) "
                     "VALUES (%s, 'wl-c1', 10507, 'water_level', 'calibrating', %s)",
                     (NOW - timedelta(hours=1), NOW - timedelta(hours=1)))
        for i, (topic_area, reason) in enumerate(((10507, "out_of_range"), (288, "district_mismatch"),
                                                  (CHI_LINH_COMMUNE, "out_of_range"))):
            conn.execute("INSERT INTO deadletters (received_at, reason, message, mqtt_topic, device_id, district, "
                         "payload, payload_bytes, payload_truncated, payload_sha256, kafka_partition, kafka_offset) "
                         "VALUES (%s, %s, 'm', 't', 'x', %s, '\\x00', 1, false, %s, 1, %s)",
                         (NOW - timedelta(minutes=3), reason, topic_area, f"h{i}", i))
    with queries.connect(data) as conn:
        hourly = queries.completeness_hourly(conn, timedelta(hours=3), now=NOW, area=288)
        got = {(r["hour"].hour, r["area"]): (r["devices"], r["expected"], r["received"]) for r in hourly}
        rejects = {r["reason"]: r["count"] for r in queries.rejects(conn, timedelta(hours=1), now=NOW, area=288)}
        chi_linh = {r["reason"]: r["count"] for r in queries.rejects(conn, timedelta(hours=1), now=NOW, area=290)}
    # 10507: aq-c1 (12 an hour) + wl-c1 (6 an hour); 10525: aq-c2 (12); and under 288 itself the fixture's
    # district-era devices aq-288-01 (a reading a minute since 10:00) and nz-288-01 (two at 11:56, 11:57)
    assert got[(9, 288)] == (2, 120, 0) and got[(10, 288)] == (2, 120, 60) and got[(11, 288)] == (2, 120, 62)
    assert got[(9, 10507)] == (2, 18, 12) and got[(10, 10507)] == (2, 18, 0) and got[(11, 10507)] == (2, 18, 18)
    assert got[(9, 10525)] == (1, 12, 0) and got[(11, 10525)] == (1, 12, 1)
    assert {area for _, area in got} == {288, 10507, 10525}  # Chí Linh's commune is outside group 288
    assert next(r["complete"] for r in hourly if r["hour"].hour == 11 and r["area"] == 10525) == round(1 / 12, 4)
    assert rejects == {"out_of_range": 1, "district_mismatch": 1} and chi_linh == {"out_of_range": 1}
