"""The sharing interfaces over the whole platform: a small city published through MQTT
(tests/integration/e2e/city.py), then NGSI-LD and OData asked what a department would ask. Expected
values come from what was published and from the decision's tables by hand, and are compared both
ways (nothing missing, nothing extra) with SQL over the stored rows; geo-queries with distances and
boxes computed here; a JSON-LD processor (pyld) expands the entities with the served @context, its
document loader allowed to reach only the API."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import httpx
import pytest
from pyld import jsonld

from telemetry.areas import Level
from tests.integration.e2e.city import (AREAS, CHI_LINH, DEVICES, HAI_DUONG, PM25, STEP_S, THANH_DONG, by_hand,
                                        metrics, published_city, rows)
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration
LAST = 3 * 3600 // STEP_S + 1  # the index of the last reading published
TYPE_OF = {"air_quality": "AirQualityObserved", "weather": "WeatherObserved", "noise": "NoiseLevelObserved",
           "traffic": "TrafficFlowObserved", "water_level": "WaterObserved"}
ATTR_OF = {"pm2_5": "pm25", "pm10": "pm10", "noise_laeq": "LAeq", "water_level": "waterLevel",
           "vehicles_car": "intensityCar", "vehicles_motorbike": "intensityMotorbike", "avg_speed": "averageVehicleSpeed",
           "temperature": "temperature", "humidity": "relativeHumidity", "wind_speed": "windSpeed",
           "wind_direction": "windDirection"}
PAGE = 7  # OData rows a page here (CITYSENSE_API_ODATA_PAGE_ROWS): many pages from a small set


def z(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def expected_aqi() -> dict[int, int]:
    """Hour 2's AQI of every area with data: communes by hand, a group's or the city's its worst commune's."""
    communes = {code: by_hand(code, 2) for code in PM25}
    out = dict(communes)
    for code, value in communes.items():
        for above in AREAS.ancestors(code):
            out[above.code] = max(out.get(above.code, 0), value)
    return out


@pytest.fixture(scope="module")
def city(tmp_path_factory, names_made, database_url, mqtt_access, kafka_bootstrap):
    with published_city(tmp_path_factory, names_made, database_url, mqtt_access, kafka_bootstrap,
                        CITYSENSE_API_ODATA_PAGE_ROWS=str(PAGE)) as c:
        city_code = AREAS.at_level(Level.CITY)[0].code
        # the sink writes readings and the streams' AQI from different topics: the AQI of hour 2 being
        # stored says nothing of the last readings, which the entities' latest values are
        last_ts = c.t0 + timedelta(seconds=LAST * STEP_S + 7)
        wait_for(lambda: rows(c.dsn, "SELECT count(*) FROM readings WHERE ts = %s", (last_ts,))[0][0] == len(DEVICES),
                 60, what="every device's last reading stored")
        # the city's hour is re-sent as its groups' arrive: done when it has both groups, each complete
        settled = """SELECT count(*) FROM aqi c WHERE c.period = 'hour' AND c.district = %(city)s AND c.start = %(h)s
                      AND c.areas = 2 AND c.aqi = (SELECT max(aqi) FROM aqi g WHERE g.period = 'hour' AND g.start = %(h)s
                                                   AND ((g.district = 288 AND g.areas = 2) OR (g.district = 290)))"""
        wait_for(lambda: rows(c.dsn, settled, {"city": city_code, "h": c.t0 + timedelta(hours=2)})[0][0] == 1, 60,
                 what="hour 2's AQI of the city, from both groups complete")
        yield c


def get(city, path: str, accept: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {city.viewer_key}"}
    if accept:
        headers["Accept"] = accept
    r = httpx.get(city.url + path, params=params, headers=headers, timeout=30)
    assert r.status_code == 200, (path, params, r.status_code, r.text[:500])
    return r


def entities(city, **params) -> list[dict]:
    return get(city, "/ngsi-ld/v1/entities", limit=1000, **params).json()


def test_every_entity_and_its_latest_values_are_what_was_published(city):
    got = {e["id"]: e for e in entities(city)}
    last_ts = city.t0 + timedelta(seconds=LAST * STEP_S + 7)
    devices = {f"urn:ngsi-ld:{TYPE_OF[d.kind]}:{d.device_id}": d for d in DEVICES}
    areas = {f"urn:ngsi-ld:AirQualityObserved:area-{code}": aqi for code, aqi in expected_aqi().items()}
    assert set(got) == set(devices) | set(areas)  # both ways: nothing missing, nothing extra
    stored = {r[0] for r in rows(city.dsn, "SELECT DISTINCT device_id FROM readings")}
    assert {d.device_id for d in devices.values()} == stored
    for urn, device in devices.items():
        e = got[urn]
        published = {ATTR_OF[k]: float(v) for k, v in metrics(device, LAST).items()}
        measured = {k: v["value"] for k, v in e.items() if k in set(ATTR_OF.values())}
        assert measured == published, urn
        for name in published:
            assert e[name]["observedAt"] == z(last_ts) and e[name]["unitCode"], (urn, name)
        assert e["refDevice"]["object"] == f"urn:ngsi-ld:Device:{device.device_id}"
        assert e["areaCode"]["value"] == device.district
    for urn, aqi in areas.items():
        assert got[urn]["airQualityIndex"]["value"] == aqi, urn
        assert got[urn]["airQualityIndex"]["observedAt"] == z(city.t0 + timedelta(hours=3))
    assert got["urn:ngsi-ld:AirQualityObserved:area-10525"]["pm25"]["value"] == PM25[HAI_DUONG][2]
    water = got["urn:ngsi-ld:WaterObserved:wl-10525"]  # the profile: 251 cm against its 300 cm threshold
    assert water["floodThreshold"]["value"] == 300.0 and water["floodThresholdExceeded"]["value"] is False
    noise = got["urn:ngsi-ld:NoiseLevelObserved:nz-10507"]
    assert noise["LAeq"]["unitCode"] == "2N" and noise["dateObservedTo"]["value"]["@value"] == z(last_ts)


def test_query_forms_select_the_right_entities(city):
    def ids(**params) -> set[str]:
        return {e["id"] for e in entities(city, **params)}

    assert ids(type="NoiseLevelObserved") == {"urn:ngsi-ld:NoiseLevelObserved:nz-10507"}
    assert ids(type="WaterObserved,TrafficFlowObserved") == {"urn:ngsi-ld:WaterObserved:wl-10525",
                                                             "urn:ngsi-ld:TrafficFlowObserved:tf-10525"}
    assert ids(type="https://smartdatamodels.org/dataModel.Environment/NoiseLevelObserved") == ids(
        type="NoiseLevelObserved")
    two = {"urn:ngsi-ld:AirQualityObserved:aq-10507", "urn:ngsi-ld:AirQualityObserved:aq-10525"}
    assert ids(id=",".join(sorted(two))) == two
    assert ids(idPattern=r"^urn:ngsi-ld:AirQualityObserved:aq-105(07|25)$") == two
    bad = {f"urn:ngsi-ld:AirQualityObserved:area-{c}" for c, v in expected_aqi().items() if v > 100}
    assert bad and ids(q="airQualityIndex>100") == bad
    assert ids(q="airQualityIndex>100;areaLevel==\"commune\"") == {u for u in bad if int(u.rsplit("-", 1)[1]) in PM25}
    over = {f"urn:ngsi-ld:AirQualityObserved:aq-{c}" for c in PM25 if PM25[c][3] >= 40}
    assert ids(type="AirQualityObserved", q="pm25>=40;refDevice") == over
    assert ids(q="LAeq>=60|waterLevel==250..252") == {"urn:ngsi-ld:NoiseLevelObserved:nz-10507",
                                                      "urn:ngsi-ld:WaterObserved:wl-10525"}
    assert ids(attrs="waterLevel") == {"urn:ngsi-ld:WaterObserved:wl-10525"}
    shown = {e["id"]: set(e) for e in entities(city, attrs="LAeq,waterLevel")}  # those with any, only those
    assert shown == {"urn:ngsi-ld:NoiseLevelObserved:nz-10507": {"id", "type", "LAeq"},
                     "urn:ngsi-ld:WaterObserved:wl-10525": {"id", "type", "waterLevel"}}


def _km(lat1, lon1, lat2, lon2) -> float:
    """Haversine, written here (the oracle)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_geo_queries_select_the_right_communes_and_devices(city):
    located = {e["id"]: e["location"]["value"]["coordinates"] for e in entities(city)}
    centre = AREAS.get(HAI_DUONG)
    for metres in (1, 8000, 25000):
        near = {e["id"] for e in entities(city, georel=f"near;maxDistance=={metres}", geometry="Point",
                                          coordinates=f"[{centre.lon},{centre.lat}]")}
        assert near == {i for i, (lon, lat) in located.items() if _km(lat, lon, centre.lat, centre.lon) * 1000 <= metres}
        assert near, metres
    far = {e["id"] for e in entities(city, georel="near;minDistance==8000", geometry="Point",
                                     coordinates=f"[{centre.lon},{centre.lat}]")}
    assert far == {i for i, (lon, lat) in located.items() if _km(lat, lon, centre.lat, centre.lon) * 1000 >= 8000}
    chi_linh = AREAS.get(CHI_LINH)
    x0, y0, x1, y1 = chi_linh.lon - 0.05, chi_linh.lat - 0.05, chi_linh.lon + 0.05, chi_linh.lat + 0.05
    box = f"[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]"
    inside = {e["id"] for e in entities(city, georel="within", geometry="Polygon", coordinates=box)}
    assert inside == {i for i, (lon, lat) in located.items() if x0 < lon < x1 and y0 < lat < y1}
    assert f"urn:ngsi-ld:AirQualityObserved:area-{CHI_LINH}" in inside
    outside = {e["id"] for e in entities(city, georel="disjoint", geometry="Polygon", coordinates=box)}
    assert outside == set(located) - inside


def test_deep_paging_never_gives_an_empty_page_before_the_end(city):
    every = [e["id"] for e in entities(city)]
    seen, offset = [], 0
    while True:
        page = get(city, "/ngsi-ld/v1/entities", limit=3, offset=offset, count="true")
        assert int(page.headers["NGSILD-Results-Count"]) == len(every)
        if offset >= len(every):
            assert page.json() == []
            break
        assert 1 <= len(page.json()) <= 3
        seen += [e["id"] for e in page.json()]
        offset += 3
    assert seen == every


def test_temporal_instances_lastn_and_aggregates_equal_sql(city):
    urn = "urn:ngsi-ld:AirQualityObserved:aq-10546"
    start, end = city.t0, city.t0 + timedelta(hours=3)
    sql = rows(city.dsn, "SELECT ts, pm2_5 FROM readings WHERE device_id = 'aq-10546' AND ts >= %s AND ts < %s "
                         "ORDER BY ts", (start, end))
    assert len(sql) == 3 * 3600 // STEP_S  # every reading published in the range, stored once
    body = get(city, f"/ngsi-ld/v1/temporal/entities/{urn}", attrs="pm25", timerel="between", timeAt=z(start),
               endTimeAt=z(end)).json()
    assert [(i["observedAt"], i["value"]) for i in body["pm25"]] == [(z(t), v) for t, v in sql]
    assert all(i["unitCode"] == "GQ" for i in body["pm25"]) and set(body) == {"id", "type", "pm25"}
    simple = get(city, f"/ngsi-ld/v1/temporal/entities/{urn}", attrs="pm25", timerel="between", timeAt=z(start),
                 endTimeAt=z(end), options="temporalValues").json()
    assert simple["pm25"]["values"] == [[v, z(t)] for t, v in sql]
    last = get(city, f"/ngsi-ld/v1/temporal/entities/{urn}", attrs="pm25", timerel="before", timeAt=z(end),
               lastN=4).json()
    assert [(i["observedAt"], i["value"]) for i in last["pm25"]] == [(z(t), v) for t, v in sql[-4:]]
    hourly = get(city, f"/ngsi-ld/v1/temporal/entities/{urn}", attrs="pm25", timerel="between", timeAt=z(start),
                 endTimeAt=z(end), aggrMethods="avg,max,totalCount", aggrPeriodDuration="PT1H").json()
    by_sql = rows(city.dsn, "SELECT date_trunc('hour', ts), avg(pm2_5), max(pm2_5), count(*) FROM readings "
                            "WHERE device_id = 'aq-10546' AND ts >= %s AND ts < %s GROUP BY 1 ORDER BY 1", (start, end))
    assert hourly["pm25"]["avg"] == [[a, z(h), z(h + timedelta(hours=1))] for h, a, _, _ in by_sql]
    assert hourly["pm25"]["max"] == [[m, z(h), z(h + timedelta(hours=1))] for h, _, m, _ in by_sql]
    assert [v for v, _, _ in hourly["pm25"]["totalCount"]] == [n for *_, n in by_sql] == [30, 30, 30]
    assert [v for v, _, _ in hourly["pm25"]["avg"]] == PM25[CHI_LINH][:3]  # by hand: one value an hour


def test_an_areas_hourly_aqi_over_time_is_the_decisions(city):
    urn = f"urn:ngsi-ld:AirQualityObserved:area-{THANH_DONG}"
    body = get(city, f"/ngsi-ld/v1/temporal/entities/{urn}", attrs="airQualityIndex", timerel="between",
               timeAt=z(city.t0), endTimeAt=z(city.t0 + timedelta(hours=4))).json()
    expected = [(z(city.t0 + timedelta(hours=h + 1)), by_hand(THANH_DONG, h)) for h in range(3)]
    assert [(i["observedAt"], i["value"]) for i in body["airQualityIndex"]] == [e for e in expected if e[1] is not None]
    stored = rows(city.dsn, 'SELECT "end", aqi FROM aqi WHERE district = %s AND period = \'hour\' ORDER BY start',
                  (THANH_DONG,))
    assert [(z(t), v) for t, v in stored] == [(i["observedAt"], i["value"]) for i in body["airQualityIndex"]]
    several = get(city, "/ngsi-ld/v1/temporal/entities", type="AirQualityObserved", q="areaLevel==\"commune\"",
                  attrs="airQualityIndex", timerel="between", timeAt=z(city.t0),
                  endTimeAt=z(city.t0 + timedelta(hours=4)), lastN=1).json()
    assert {e["id"]: e["airQualityIndex"][0]["value"] for e in several} == {
        f"urn:ngsi-ld:AirQualityObserved:area-{c}": by_hand(c, 2) for c in PM25}


def test_a_json_ld_processor_expands_the_entities_offline(city):
    reached = []

    def loader(url, options=None):
        assert url.startswith(city.url), f"the processor wanted {url}: nothing may come from the internet"
        reached.append(url)
        r = httpx.get(url, timeout=10)
        assert r.status_code == 200
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": r.json()}

    body = get(city, "/ngsi-ld/v1/entities", "application/ld+json").json()
    expanded = jsonld.expand(body, {"documentLoader": loader})
    assert len(expanded) == len(body) and len(reached) >= 2  # ours, then the core context it names
    aq = next(e for e in expanded if e["@id"] == "urn:ngsi-ld:AirQualityObserved:aq-10525")
    assert aq["@type"] == ["https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"]
    pm25 = aq["https://smartdatamodels.org/dataModel.Environment/pm25"][0]
    assert pm25["https://uri.etsi.org/ngsi-ld/hasValue"] == [{"@value": PM25[HAI_DUONG][3]}]
    assert pm25["https://uri.etsi.org/ngsi-ld/unitCode"] == [{"@value": "GQ"}]
    assert pm25["https://uri.etsi.org/ngsi-ld/observedAt"][0]["@type"] == "https://uri.etsi.org/ngsi-ld/DateTime"
    # and the plain-JSON form with the Link header's context expands the same
    plain = get(city, "/ngsi-ld/v1/entities")
    context = plain.headers["link"].split(";")[0].strip("<>")
    again = jsonld.expand([{**e, "@context": context} for e in plain.json()], {"documentLoader": loader})
    assert sorted(again, key=lambda e: e["@id"]) == sorted(expanded, key=lambda e: e["@id"])


def _all_pages(city, path: str, **params) -> tuple[list[dict], int | None, int]:
    """Every row by following @odata.nextLink to the last page; the count of the first; pages read."""
    r = get(city, path, **params).json()
    out, count, pages = list(r["value"]), r.get("@odata.count"), 1
    while "@odata.nextLink" in r:
        assert len(r["value"]) == PAGE
        link = r["@odata.nextLink"]
        r = httpx.get(link, headers={"Authorization": f"Bearer {city.viewer_key}"}, timeout=30).json()
        assert r["value"], "a nextLink to an empty page"
        out += r["value"]
        pages += 1
    return out, count, pages


def test_odata_queries_and_paging_to_the_last_page_equal_sql(city):
    since = city.t0 + timedelta(hours=1)
    got, count, pages = _all_pages(city, "/odata/Readings", **{
        "$filter": f"device_id eq 'aq-10507' and ts ge {z(since)}", "$select": "ts,pm2_5", "$count": "true"})
    sql = rows(city.dsn, "SELECT ts, pm2_5 FROM readings WHERE device_id = 'aq-10507' AND ts >= %s ORDER BY ts",
               (since,))
    assert [(r["ts"], r["pm2_5"]) for r in got] == [(z(t), v) for t, v in sql]
    assert count == len(sql) and pages == math.ceil(len(sql) / PAGE) and set(got[0]) == {"ts", "pm2_5"}
    window, _, pages = _all_pages(city, "/odata/Readings", **{"$filter": "kind eq 'noise'", "$orderby": "ts desc",
                                                             "$top": "10", "$skip": "5"})
    sql = rows(city.dsn, "SELECT ts FROM readings WHERE kind = 'noise' ORDER BY ts DESC OFFSET 5 LIMIT 10")
    assert [r["ts"] for r in window] == [z(t) for (t,) in sql] and pages == 2
    hourly, _, _ = _all_pages(city, "/odata/HourlyAggregates", **{
        "$filter": "metric eq 'pm2_5' and (area eq 10507 or area eq 288)", "$orderby": "area,window_start"})
    sql = rows(city.dsn, "SELECT district, window_start, mean FROM aggregates WHERE window_s = 3600 AND metric = 'pm2_5' "
                         "AND district IN (10507, 288) ORDER BY district, window_start")
    assert [(r["area"], r["window_start"], r["mean"]) for r in hourly] == [(a, z(w), m) for a, w, m in sql]
    assert len(sql) >= 3
    aqi, _, _ = _all_pages(city, "/odata/Aqi", **{"$filter": "period eq 'hour' and start eq " + z(city.t0 + timedelta(
        hours=2)), "$orderby": "aqi desc,area", "$select": "area,aqi"})
    assert {r["area"]: r["aqi"] for r in aqi} == expected_aqi()
    named, _, _ = _all_pages(city, "/odata/Areas", **{"$filter": "level eq 'commune' and startswith(name,'Phường Hải')",
                                                      "$select": "code,name"})
    assert sorted(r["code"] for r in named) == sorted(a.code for a in AREAS.communes()
                                                      if a.name.startswith("Phường Hải"))
    devices, _, _ = _all_pages(city, "/odata/Devices", **{"$filter": "not (kind eq 'air_quality') and area in (10525, 10546)"})
    assert sorted(d["device_id"] for d in devices) == sorted(d.device_id for d in DEVICES
                                                            if d.kind != "air_quality" and d.district in (10525, 10546))


def test_every_call_is_traced_to_its_consumer(city):
    get(city, "/ngsi-ld/v1/entities", type="NoiseLevelObserved")
    get(city, "/odata/Alerts")

    def traced() -> set[tuple]:
        return set(rows(city.dsn, "SELECT consumer, interface, entity_type FROM api_access_log "
                                  "WHERE interface IN ('ngsi-ld', 'odata') AND status = 200"))

    wait_for(lambda: {("e2e viewer", "ngsi-ld", "NoiseLevelObserved"), ("e2e viewer", "odata", "Alert")} <= traced(),
             10, what="the calls in the access log")
