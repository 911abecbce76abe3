"""The operations centre's queries on a fixed data set (values computed by hand)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.types.json import Jsonb

from storage import queries

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def data(test_db) -> str:
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
    assert [(r["district"], r["aqi"], r["name"]) for r in ranking] == [(288, 176, "Thành phố Hải Dương"),
                                                                     (290, 72, "Thành phố Chí Linh")]
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
