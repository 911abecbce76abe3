"""The API against a known data set (tests/integration/api/conftest.py), values by hand: access by
role, problem details naming the bad parameter, areas and their state, series (a day merged from
hourly windows as energy), AQI, devices, data quality, and the alert actions' round trip
(API -> database -> Kafka topic -> the alert's timeline), each call in the access log."""

from __future__ import annotations

import math

import httpx
import orjson
import psycopg
import pytest

from api.app import action_topic
from tests.integration.api.conftest import T
from tests.integration.helpers import read_topic, wait_for

pytestmark = pytest.mark.integration
DAY = {"from": T.isoformat(), "to": (T.replace(hour=12)).isoformat()}


def test_keys_and_roles_are_enforced(api):
    none = api.get("/api/v1/areas", role=None)
    assert none.status_code == 401 and none.headers["content-type"] == "application/problem+json"
    assert none.json()["status"] == 401 and "Bearer" in none.json()["detail"]
    assert api.get("/api/v1/areas", role="revoked").status_code == 401
    viewer = api.post("/api/v1/alerts/al1/acknowledge", role="viewer")
    assert viewer.status_code == 403 and "operator" in viewer.json()["detail"]
    assert api.get("/api/v1/areas", role="viewer").status_code == 200


def test_bad_parameters_are_4xx_naming_the_parameter(api):
    for params, name in (({"metric": "noise_laeq", "bucket": "2h"}, "bucket"),
                         ({"metric": "nope"}, "metric"),
                         ({"metric": "noise_laeq", "from": "2026-11-25T00:00:00"}, "from"),
                         ({"metric": "noise_laeq", "bucket": "1m", "from": "2025-01-01T00:00:00Z",
                           "to": "2026-01-01T00:00:00Z"}, "bucket"),  # 525,600 points
                         ({"metric": "noise_laeq", "bucket": "1d", "from": "2024-01-01T00:00:00Z",
                           "to": "2026-01-01T00:00:00Z"}, "from")):  # over 400 days
        r = api.get("/api/v1/areas/288/series", **params)
        assert r.status_code == 400, (params, r.text)
        assert name in [e["name"] for e in r.json()["errors"]], r.json()
    assert api.get("/api/v1/areas/99999").status_code == 404
    assert api.get("/api/v1/areas/abc").status_code == 400


def test_areas_and_an_area_s_state(api):
    groups = api.get("/api/v1/areas", level="group").json()
    assert len(groups) == 27 and {g["parent"] for g in groups} == {31}
    communes = api.get("/api/v1/areas", parent=288, boundary="true").json()
    assert len(communes) == 8 and all(c["boundary"]["type"] in ("Polygon", "MultiPolygon") for c in communes)
    state = api.get("/api/v1/areas/288").json()
    assert state["area"]["name"] == "Thành phố Hải Dương (cũ)" and state["area"]["level"] == "group"
    assert (state["aqi"]["aqi"], state["aqi"]["worst_area"], state["aqi"]["areas"]) == (160, 10525, 2)
    assert [(v["metric"], v["mean"], v["window_s"]) for v in state["latest"]] == [("noise_laeq", 70.0, 3600)]
    assert [a["alert_id"] for a in state["open_alerts"]] == ["al1"]  # al2 is resolved, and in Chí Linh
    assert state["devices"]["devices"] == 3 and state["devices"]["clock_skewed"] == 1


def test_series_and_aqi_history(api):
    hours = api.get("/api/v1/areas/288/series", metric="noise_laeq", bucket="1h", **DAY).json()
    assert [(p["count"], p["mean"]) for p in hours["points"]] == [(60, 60.0), (60, 70.0)]
    day = api.get("/api/v1/areas/288/series", metric="noise_laeq", bucket="1d", **DAY).json()
    [point] = day["points"]
    assert point["count"] == 120 and point["mean"] == pytest.approx(10 * math.log10((10 ** 6 + 10 ** 7) / 2))
    raw = api.get("/api/v1/devices/aq-a/series", metric="pm2_5", bucket="15m", **DAY).json()
    assert raw["source"] == "readings"
    assert [(p["count"], p["mean"]) for p in raw["points"]] == [(15, sum(range(q, q + 15)) / 15)
                                                              for q in (0, 15, 30, 45)]
    history = api.get("/api/v1/areas/10525/aqi", **DAY).json()
    assert [(h["aqi"], h["level_vi"]) for h in history] == [(160, "Xấu")]


def test_devices_and_data_quality(api):
    devices = {d["device_id"]: d for d in api.get("/api/v1/devices", area=288).json()}
    assert set(devices) == {"aq-a", "nz-a", "nz-b"}
    a = devices["aq-a"]
    assert a["rejects_24h"] == {"out_of_range": 2, "not_finite": 1} and (a["clock"], a["clock_skew_s"]) == ("fast", 120)
    assert a["last_seen"].startswith(f"{T:%Y-%m-%d}T00:59")
    page = api.get("/api/v1/devices", limit=2).json()
    assert [d["device_id"] for d in page] == ["aq-a", "aq-c"]
    assert [d["device_id"] for d in api.get("/api/v1/devices", limit=2, after="aq-c").json()] == ["nz-a", "nz-b"]
    hours = api.get("/api/v1/completeness", area=10507, **{"from": T.isoformat(),
                                                           "to": T.replace(hour=2).isoformat()}).json()
    # aq-a and nz-a, 60 expected an hour each; aq-a sent 60 in the first hour
    assert [(h["hour"][:13], h["expected"], h["received"]) for h in hours] == [(f"{T:%Y-%m-%d}T00", 120, 60),
                                                                              (f"{T:%Y-%m-%d}T01", 120, 0)]
    rejects = api.get("/api/v1/rejects", area=288).json()
    assert [(r["reason"], r["count"]) for r in rejects] == [("out_of_range", 2), ("not_finite", 1)]
    assert api.get("/api/v1/rejects", area=290).json() == []


async def test_alert_actions_round_trip_through_the_database_and_kafka(api, kafka_bootstrap):
    steps = [("acknowledge", None), ("assign", {"assignee": "đội môi trường"}), ("comment", {"comment": "đã gọi"}),
             ("close", {"reason": "cảm biến lỗi"})]
    made = []
    for action, body in steps:
        r = api.post(f"/api/v1/alerts/al1/{action}", body=body)
        assert r.status_code == 201, r.text
        made.append(r.json())
    assert api.post("/api/v1/alerts/al1/acknowledge").status_code == 409  # closed: only comments follow
    assert api.post("/api/v1/alerts/nope/acknowledge").status_code == 404
    assert api.post("/api/v1/alerts/al1/assign", body={}).status_code == 400
    detail = api.get("/api/v1/alerts/al1").json()
    assert detail["operator_state"] == "closed" and detail["assignee"] == "đội môi trường"
    ops = [(e["what"], e["by"], e["detail"]) for e in detail["timeline"] if e["kind"] == "operator"]
    assert ops == [("acknowledge", "operator-team", None), ("assign", "operator-team", "đội môi trường"),
                   ("comment", "operator-team", "đã gọi"), ("close", "operator-team", "cảm biến lỗi")]
    assert detail["timeline"][0] == {"at": detail["opened_at"], "kind": "stream", "what": "open", "by": None,
                                     "detail": None}
    records = await read_topic(kafka_bootstrap, action_topic(api.prefix), until=4, timeout=30)
    sent = [orjson.loads(r.value) for r in records]
    assert [(m["action_id"], m["action"], m["area"], m["actor"]) for m in sent] == [
        (x["action_id"], x["action"], 10525, "operator-team") for x in made]
    assert {r.key for r in records} == {b"10525"}
    wait_for(lambda: all(a["published"] for a in api.get("/api/v1/alerts/al1").json()["actions"]), 10,
             what="every action stamped published")
    assert [a["alert_id"] for a in api.get("/api/v1/alerts", state="all", area=290).json()] == ["al2"]


def test_an_admin_manages_keys_over_http(api):
    r = httpx.post(api.url + "/api/v1/keys", json={"consumer": "Sở Xây dựng", "role": "viewer"},
                   headers={"Authorization": f"Bearer {api.tokens['admin']}"}, timeout=10)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["token"].startswith(f"cs_{made['key_id']}_") and made["role"] == "viewer"
    new = {"Authorization": f"Bearer {made['token']}"}
    assert httpx.get(api.url + "/api/v1/areas/288", headers=new, timeout=10).status_code == 200
    listed = {k["key_id"]: k for k in api.get("/api/v1/keys", role="admin").json()}
    admin_id = api.tokens["admin"].split("_")[1]
    assert listed[made["key_id"]]["created_by"] == admin_id and listed[made["key_id"]]["consumer"] == "Sở Xây dựng"
    assert "token" not in listed[made["key_id"]] and len(listed) == 5  # the fixture's four and this one
    assert api.get("/api/v1/keys", role="operator").status_code == 403  # only an admin
    bad = httpx.post(api.url + "/api/v1/keys", json={"consumer": "x", "role": "root"},
                     headers={"Authorization": f"Bearer {api.tokens['admin']}"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["errors"][0]["name"] == "role"

    def revoke(key_id: str) -> int:
        return httpx.delete(f"{api.url}/api/v1/keys/{key_id}", headers={"Authorization": f"Bearer {api.tokens['admin']}"},
                            timeout=10).status_code

    assert revoke(made["key_id"]) == 204
    assert httpx.get(api.url + "/api/v1/areas/288", headers=new, timeout=10).status_code == 401
    assert revoke(made["key_id"]) == 404  # already revoked
    after = {k["key_id"]: k for k in api.get("/api/v1/keys", role="admin").json()}[made["key_id"]]
    assert after["revoked_by"] == admin_id and after["revoked_at"] is not None
    with psycopg.connect(api.dsn) as conn:  # stored hashed: the token itself is nowhere in the table
        assert conn.execute("SELECT count(*) FROM api_keys WHERE key_sha256 = %s OR consumer = %s",
                            (made["token"], made["token"])).fetchone()[0] == 0


def test_every_call_is_in_the_access_log(api):
    api.get("/api/v1/areas/288")
    api.get("/api/v1/areas", role=None)
    api.post("/api/v1/alerts/al1/comment", role="viewer", body={"comment": "x"})

    def logged() -> list[tuple]:
        with psycopg.connect(api.dsn) as conn:
            return conn.execute("SELECT consumer, method, route, status FROM api_access_log ORDER BY at").fetchall()

    wait_for(lambda: len(logged()) >= 3, 10, what="three calls logged")
    assert logged()[-3:] == [("viewer-team", "GET", "/api/v1/areas/{code}", 200), (None, "GET", "/api/v1/areas", 401),
                             ("viewer-team", "POST", "/api/v1/alerts/{alert_id}/comment", 403)]
    text = open(api.proc.log_file, encoding="utf-8").read()
    assert not any(token in text for token in api.tokens.values())  # secrets never in logs


def test_openapi_and_metrics(api):
    doc = api.get("/api/v1/openapi.json", role=None).json()
    assert {"/api/v1/areas", "/api/v1/areas/{code}/series", "/api/v1/alerts/{alert_id}/close"} <= set(doc["paths"])
    metrics = api.get("/metrics", role=None).text
    assert "citysense_api_requests_total" in metrics and "citysense_api_pool_connections" in metrics
    assert "citysense_api_sse_kafka_lag_messages" in metrics


def test_exports_stream_every_row_once_over_many_pages(api):
    """Pages of 7 rows (CITYSENSE_API_EXPORT_PAGE_ROWS): aq-a's 60 readings cross 9 pages."""
    r = api.get("/api/v1/exports/readings.csv", area=288, **DAY)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    assert header[:5] == ["ts", "device_id", "area", "kind", "status"] and len(rows) == 60
    pm = header.index("pm2_5")
    assert [float(row[pm]) for row in rows] == [float(m) for m in range(60)]  # each once, in time order
    geo = api.get("/api/v1/exports/readings.geojson", area=288, **DAY)
    assert geo.headers["content-type"] == "application/geo+json"
    features = geo.json()["features"]
    assert len(features) == 60 and features[0]["geometry"] == {"type": "Point", "coordinates": [106.32625, 20.96038]}
    assert [f["properties"]["pm2_5"] for f in features] == [float(m) for m in range(60)]
    assert api.get("/api/v1/exports/readings.csv", area=290, **DAY).text.strip().count("\n") == 0  # header only
    alerts = api.get("/api/v1/exports/alerts.geojson", **DAY).json()["features"]
    assert sorted(f["properties"]["alert_id"] for f in alerts) == ["al1", "al2"]
    series = api.get("/api/v1/exports/series.csv", area=288, metric="noise_laeq", **DAY).text.strip().splitlines()
    assert len(series) == 3 and series[1].split(",")[:2] == ["288", "noise_laeq"]
    assert api.get("/api/v1/exports/readings.xml", **DAY).status_code in (400, 404)
