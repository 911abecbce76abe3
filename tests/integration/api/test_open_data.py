"""Open data (/open/v1, no key) against the known data set: the latest hourly AQI of every commune as
JSON and GeoJSON with its licence, values by hand; the rate limit per client address (another
loopback address has its own), and its 429 saying when to come back."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.integration.api.conftest import T

pytestmark = pytest.mark.integration


def test_the_latest_aqi_of_every_commune_without_a_key(api):
    r = httpx.get(api.url + "/open/v1/aqi", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["licence"] == "CC-BY-4.0" and "1459" in body["method"] and body["attribution"]
    assert len(body["areas"]) == 114
    got = {a["code"]: (a["aqi"], a["hour_start"]) for a in body["areas"] if a["aqi"] is not None}
    assert got == {10507: (120, T.isoformat()), 10525: (160, T.isoformat())}  # by hand: the data set's two rows
    groups = httpx.get(api.url + "/open/v1/aqi", params={"level": "group"}, timeout=10).json()["areas"]
    assert [(g["code"], g["aqi"], g["worst_area"]) for g in groups if g["aqi"] is not None] == [(288, 160, 10525)]
    assert httpx.get(api.url + "/open/v1/aqi", params={"level": "x"}, timeout=10).status_code == 400


def test_geojson_points_or_boundaries_with_both_licences(api):
    r = httpx.get(api.url + "/open/v1/aqi.geojson", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["licence"] == "CC-BY-4.0" and len(fc["features"]) == 114
    thanh_dong = next(f for f in fc["features"] if f["id"] == 10507)
    assert thanh_dong["geometry"]["type"] == "Point" and thanh_dong["properties"]["aqi"] == 120
    lon, lat = thanh_dong["geometry"]["coordinates"]
    assert 106.2 < lon < 106.4 and 20.9 < lat < 21.0  # Phường Thành Đông, Hải Dương
    shapes = httpx.get(api.url + "/open/v1/aqi.geojson", params={"boundary": "true"}, timeout=10).json()
    assert {f["geometry"]["type"] for f in shapes["features"]} <= {"Polygon", "MultiPolygon"}
    assert shapes["boundaries_licence"] == "Copyright (c) 2021 Thang Le Quoc (MIT License)"


def test_each_client_address_has_its_own_limit(api):
    """60 calls a minute, bursts of 30 (the defaults): both forms draw on one bucket per address."""
    started, codes, refused = time.monotonic(), [], None
    while len(codes) < 200:
        r = httpx.get(api.url + ("/open/v1/aqi", "/open/v1/aqi.geojson")[len(codes) % 2], timeout=10)
        codes.append(r.status_code)
        if r.status_code != 200:
            refused = r
            break
    elapsed = time.monotonic() - started
    assert refused is not None and refused.status_code == 429
    assert 30 <= len(codes) - 1 <= 30 + elapsed * 1.0 + 1  # the burst, plus one a second while it lasted
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1 and "a minute" in refused.json()["detail"]
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10) as other:
        assert other.get(api.url + "/open/v1/aqi").status_code == 200  # another address: its own bucket
    assert api.get("/api/v1/areas").status_code == 200  # keyed routes are not limited
