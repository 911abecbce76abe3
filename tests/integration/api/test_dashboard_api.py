"""What the dashboard reads beside the resources of test_api.py, against the known data set (values
by hand): every area's latest hourly AQI with the hour before, the groups' outlines, the caller, the
reference tables (the decision's Table 1, QCVN 05:2023, QCVN 26:2010), devices with their place and
last reading, and the page itself with its Content-Security-Policy."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.integration.api.conftest import T

pytestmark = pytest.mark.integration


def test_every_communes_latest_hourly_aqi_with_the_hour_before(api):
    with psycopg.connect(api.dsn, autocommit=True) as conn:
        for hours, aqi in ((5, 40), (6, 75), (8, 90)):  # Chí Linh: hours 5, 6 and 8 (7 missing)
            conn.execute("INSERT INTO aqi (start, \"end\", period, district, aqi, level_vi, level_en, colour, "
                         "dominant, sub_indices, level, parent) VALUES (%s, %s, 'hour', 10546, %s, 'x', 'x', "
                         "'{0,0,0}', 'pm10', %s, 'commune', 290)",
                         (T + timedelta(hours=hours), T + timedelta(hours=hours + 1), aqi, Jsonb({"pm10": aqi})))
        conn.execute("INSERT INTO aqi (start, \"end\", period, district, aqi, level_vi, level_en, colour, dominant, "
                     "sub_indices, level, parent) VALUES (%s, %s, 'day', 10507, 300, 'x', 'x', '{0,0,0}', 'pm10', "
                     "'{}', 'commune', 288)", (T + timedelta(days=1), T + timedelta(days=2)))  # a day: not an hour
    rows = api.get("/api/v1/aqi/latest").json()
    assert len(rows) == 114 and {r["level"] for r in rows} == {"commune"}
    got = {r["area"]: (r["aqi"], r["start"], r["previous_aqi"]) for r in rows if r["aqi"] is not None}
    iso = lambda h: (T + timedelta(hours=h)).isoformat().replace("+00:00", "Z")  # noqa: E731
    assert got == {10507: (120, iso(0), None), 10525: (160, iso(0), None), 10546: (90, iso(8), None)}
    with psycopg.connect(api.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO aqi (start, \"end\", period, district, aqi, level_vi, level_en, colour, dominant, "
                     "sub_indices, level, parent) VALUES (%s, %s, 'hour', 10546, 130, 'x', 'x', '{0,0,0}', 'pm10', "
                     "'{}', 'commune', 290)", (T + timedelta(hours=9), T + timedelta(hours=10)))
    chi_linh = next(r for r in api.get("/api/v1/aqi/latest").json() if r["area"] == 10546)
    assert (chi_linh["aqi"], chi_linh["previous_aqi"], chi_linh["parent"]) == (130, 90, 290)
    groups = api.get("/api/v1/aqi/latest", level="group").json()
    assert len(groups) == 27
    assert [(g["area"], g["aqi"], g["worst_area"]) for g in groups if g["aqi"] is not None] == [(288, 160, 10525)]
    assert api.get("/api/v1/aqi/latest", level="ward").status_code == 400
    assert api.get("/api/v1/aqi/latest", role=None).status_code == 401


def test_group_outlines_run_along_their_communes_boundaries(api):
    r = api.get("/api/v1/areas/outlines")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    features = r.json()["features"]
    with psycopg.connect(api.dsn) as conn:
        shapes = conn.execute("SELECT parent, boundary FROM areas WHERE level = 'commune'").fetchall()
        groups = {c for (c,) in conn.execute("SELECT code FROM areas WHERE level = 'group'")}
    assert {f["id"] for f in features} == groups
    edges = {}  # group -> edge -> how many of its communes' rings have it
    for parent, shape in shapes:
        polygons = [shape["coordinates"]] if shape["type"] == "Polygon" else shape["coordinates"]
        for ring in (ring for polygon in polygons for ring in polygon):
            for a, b in zip(ring, ring[1:]):
                edge = frozenset((tuple(a), tuple(b)))
                edges.setdefault(parent, Counter())[edge] += 1
    for f in features:
        drawn = [frozenset((tuple(a), tuple(b)))
                 for line in f["geometry"]["coordinates"] for a, b in zip(line, line[1:])]
        assert len(drawn) == len(set(drawn))  # each edge once
        assert set(drawn) == {e for e, n in edges[f["id"]].items() if n == 1}, f["id"]  # both ways
    assert sum(n == 2 for c in edges.values() for n in c.values()) > 500  # shared borders were left out
    city = api.get("/api/v1/areas/outlines", level="city").json()["features"]
    assert [f["id"] for f in city] == [31]


def test_the_caller_and_the_reference_tables(api):
    for role in ("viewer", "operator", "admin"):
        me = api.get("/api/v1/me", role=role).json()
        assert (me["consumer"], me["role"]) == (f"{role}-team", role)
    ref = api.get("/api/v1/reference").json()
    # Table 1 of Decision 1459/QĐ-TCMT
    assert [(lv["low"], lv["high"], lv["vi"], tuple(lv["colour"])) for lv in ref["aqi_levels"]] == [
        (0, 50, "Tốt", (0, 228, 0)), (51, 100, "Trung bình", (255, 255, 0)), (101, 150, "Kém", (255, 126, 0)),
        (151, 200, "Xấu", (255, 0, 0)), (201, 300, "Rất xấu", (143, 63, 151)), (301, 500, "Nguy hại", (126, 0, 35))]
    assert ref["air_limits"]["pm2_5"]["24h"] == 45 and ref["air_limits"]["pm10"]["24h"] == 100  # QCVN 05:2023
    assert ref["air_limits"]["no2"]["1h"] == 200 and ref["air_limits"]["co"]["1h"] == 30000
    assert ref["noise_limits"] == {"special": {"day": 55, "night": 45}, "normal": {"day": 70, "night": 55}}
    assert ref["noise_day_hours"] == [6, 21] and ref["metrics"]["pm2_5"]["unit"] == "µg/m³"


def test_devices_carry_their_place_and_last_reading(api):
    aq = api.get("/api/v1/devices/aq-a").json()
    assert (aq["lat"], aq["lon"], aq["last_status"]) == (20.96038, 106.32625, "measuring")
    assert aq["latest"] == {"pm2_5": 59.0}  # the last of pm2_5 = minute 0 … 59
    nz = api.get("/api/v1/devices/nz-b").json()
    assert (nz["last_seen"], nz["last_status"], nz["latest"]) == (None, None, {})


def test_the_page_and_its_policy(api):
    import httpx

    page = httpx.get(api.url + "/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == csp["connect-src"] == csp["script-src"] == "'self'"
    assert csp["img-src"] == "'self' data:" and csp["font-src"] == "'self'"
    for asset in ("/static/js/app.js", "/static/vendor/leaflet/leaflet.js", "/static/vendor/fonts/fonts.css"):
        assert httpx.get(api.url + asset, timeout=10).status_code == 200, asset
    config = httpx.get(api.url + "/dashboard/config.json", timeout=10).json()
    assert config == {"tile_url": None, "tile_attribution": "", "wall_rotate_s": 20.0, "stale_after_h": 3.0,
                      "boundaries_credit": "Copyright (c) 2021 Thang Le Quoc (MIT License)"}  # the shipped notice
    assert httpx.get(api.url + "/static/../api/settings.py", timeout=10).status_code == 404
