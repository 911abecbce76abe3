"""The operations centre's queries on a fixed data set (values computed by hand)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from storage import queries

from tests.integration.storage.conftest import NOW


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
