"""Traceability of sharing (Decree 278/2025/NĐ-CP): every call in the access log with its interface,
the kind of entity read and how many; `citysense api-keys report` tells per consumer what was read.
Expected lines by hand from the calls made here against the known data set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import psycopg
import pytest

from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def report(dsn: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "api-keys", "report", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "CITYSENSE_DATABASE_URL": dsn})


def test_the_report_tells_per_consumer_what_was_read(api):
    calls = [api.get("/api/v1/areas", level="group"), api.get("/api/v1/areas", level="group"),
             api.get("/api/v1/aqi/latest"), api.get("/api/v1/alerts"), api.get("/api/v1/devices", role="operator"),
             api.post("/api/v1/alerts/al1/acknowledge", role="viewer"),  # refused: 403
             httpx.get(api.url + "/open/v1/aqi", timeout=10), httpx.get(api.url + "/open/v1/aqi.geojson", timeout=10)]
    assert [c.status_code for c in calls] == [200, 200, 200, 200, 200, 403, 200, 200]
    with psycopg.connect(api.dsn) as conn:
        wait_for(lambda: conn.execute("SELECT count(*) FROM api_access_log").fetchone()[0] >= len(calls), 10,
                 what="the calls in the access log")
        logged = conn.execute("SELECT interface, entity_type, rows FROM api_access_log WHERE path = '/open/v1/aqi'"
                              ).fetchall()
    assert logged == [("open-data", "AirQualityIndex", 114)]
    run = report(api.dsn, "--since", "1d", "--json")
    assert run.returncode == 0, run.stderr
    got = {(r["consumer"], r["interface"], r["entity_type"]): (r["calls"], r["rows"], r["refused"])
           for r in json.loads(run.stdout)}
    assert got == {
        ("viewer-team", "api", "Area"): (2, 54, 0),  # 27 groups, twice
        ("viewer-team", "api", "AirQualityIndex"): (1, 114, 0),  # every commune
        ("viewer-team", "api", "Alert"): (1, 1, 0),  # al1 is the one open
        ("viewer-team", "api", "/api/v1/alerts/{alert_id}/acknowledge"): (1, 0, 1),  # refused, no entity read
        ("operator-team", "api", "Device"): (1, 4, 0),
        ("(public)", "open-data", "AirQualityIndex"): (2, 228, 0),
    }
    text = report(api.dsn, "--since", "30d").stdout
    assert "(public)" in text and "open-data" in text and "viewer-team" in text
    bad = report(api.dsn, "--since", "thirty days")
    assert bad.returncode == 2 and "not a duration like 30d" in bad.stderr
