"""Every `citysense query` form, `citysense audit` and `citysense db status`, run as a user types them,
against the real database holding the fixed data set (tests/integration/storage/conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def citysense(dsn: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CITYSENSE_DATABASE_URL": dsn})
    assert done.returncode == 0, f"citysense {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


def both(dsn: str, *args: str) -> tuple[str, object]:
    """The table and the JSON answer of one command."""
    return citysense(dsn, *args), json.loads(citysense(dsn, *args, "--json"))


def table_rows(text: str) -> list[list[str]]:
    lines = [line.split() for line in text.strip().splitlines()]
    return lines[1:]  # after the header


def test_query_latest(data):
    text, rows = both(data, "query", "latest", "--district", "288")
    values = {r["metric"]: r["value"] for r in rows}
    assert values == {"pm2_5": 109.0, "pm10": 218.0, "noise_laeq": 70.0}
    assert {r[0] for r in table_rows(text)} == set(values)


def test_query_series(data):
    args = ("query", "series", "--district", "288", "--metric", "pm2_5", "--from", "2026-11-25T17:00:00+07:00",
            "--to", "2026-11-25T19:00:00+07:00", "--bucket", "30m")
    text, rows = both(data, *args)
    assert [r["count"] for r in rows] == [30, 30, 30, 20]  # minutes 0-29, 30-59, 60-89, 90-109 measuring
    assert len(table_rows(text)) == 4


def test_query_aqi(data):
    text, rows = both(data, "query", "aqi")
    assert [(r["district"], r["aqi"]) for r in rows] == [(288, 176), (290, 72)]
    assert "Thành phố Hải Dương" in text and "Thành phố Chí Linh" in text


def test_query_alerts(data):
    _, every = both(data, "query", "alerts")
    text, open_only = both(data, "query", "alerts", "--open")
    assert sorted(a["alert_id"] for a in every) == ["done1", "open1"]
    assert [a["alert_id"] for a in open_only] == ["open1"] and "open1" in text and "done1" not in text


def test_query_silent_takes_fractional_minutes(data):
    # Every device of the data set was last seen on 2026-11-25, so all four are silent today.
    text, rows = both(data, "query", "silent", "--minutes", "10.5")
    assert {r["device_id"] for r in rows} == {"aq-288-01", "aq-290-01", "nz-288-01", "wl-294-01"}
    assert {r[0] for r in table_rows(text)} == {r["device_id"] for r in rows}


def test_query_rejects(data):
    text, rows = both(data, "query", "rejects", "--since", "3650d")
    assert {r["reason"]: r["count"] for r in rows} == {"unknown_device": 2, "not_utf8": 1, "out_of_range": 1}
    assert table_rows(text)[0][:2] == ["unknown_device", "2"]


def test_query_completeness(data):
    text, report = both(data, "query", "completeness", "--since", "3650d")
    devices = {d["device_id"]: d for d in report["devices"]}
    assert devices["aq-288-01"]["received"] == 120 and devices["aq-290-01"]["received"] == 30
    assert devices["wl-294-01"]["received"] == 0
    assert {r[0] for r in table_rows(text)} == {"288", "290", "294"}  # one row per district


def test_query_completeness_hourly_and_rejects_of_an_area(data):
    # the data set is days old: its hours are in the last 30 days; 288's devices aq-288-01 (a reading
    # a minute from 10:00 to 12:00 on 2026-11-25) and nz-288-01 (two at 11:56, 11:57)
    text, rows = both(data, "query", "completeness", "--hourly", "--since", "30d", "--group", "288")
    got = {(r["hour"], r["area"]): (r["expected"], r["received"]) for r in rows}
    assert got[("2026-11-25 10:00:00+00:00", 288)] == (120, 60)
    assert got[("2026-11-25 11:00:00+00:00", 288)] == (120, 62)
    assert got[("2026-11-25 09:00:00+00:00", 288)] == (120, 0)
    assert {r["area"] for r in rows} == {288} and len(table_rows(text)) == len(rows)
    text, rows = both(data, "query", "rejects", "--since", "3650d", "--area", "288")
    assert rows == []  # the data set's dead letters name no area
    assert text.strip() == "(nothing)"


def test_audit(data):
    text, report = both(data, "audit", "--since", "3650d")
    devices = {d["device_id"]: d for d in report}
    # The data set's readings carry no sequence numbers; the dead letters name devices d0 and d1.
    assert devices["aq-288-01"]["stored_without_seq"] == 120 and devices["aq-290-01"]["stored_without_seq"] == 30
    assert devices["d0"]["rejected"] == {"unknown_device": 1, "not_utf8": 1}
    assert devices["d1"]["rejected"] == {"unknown_device": 1, "out_of_range": 1}
    assert text.strip().splitlines()[-1].startswith(f"{len(report)} devices;")


def test_db_status(data):
    text, report = both(data, "db", "status")
    assert report["timescaledb"] and all(m["applied"] or m["skipped"] for m in report["migrations"])
    assert f"TimescaleDB {report['timescaledb']}" in text


def test_query_by_group_and_area(data):
    # --group 288 covers rows stored under 288 itself (the legacy data set's devices) and its communes
    _, rows = both(data, "query", "series", "--group", "288", "--metric", "pm2_5", "--from",
                   "2026-11-25T17:00:00+07:00", "--to", "2026-11-25T19:00:00+07:00", "--bucket", "30m")
    assert [r["count"] for r in rows] == [30, 30, 30, 20]
    _, ranking = both(data, "query", "aqi", "--area", "290")
    assert [r["district"] for r in ranking] == [290]
    _, silent = both(data, "query", "silent", "--minutes", "1", "--area", "290")
    assert {r["district"] for r in silent} <= {290} and silent
    done = subprocess.run([sys.executable, "-m", "cli.main", "query", "latest", "--group", "10507"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "CITYSENSE_DATABASE_URL": data})
    assert done.returncode == 2 and "not a group" in done.stderr
