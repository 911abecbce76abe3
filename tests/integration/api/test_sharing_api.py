"""NGSI-LD and OData against the API's known data set (tests/integration/api/conftest.py: aq-a's 60
readings with pm2_5 = minute, three hourly AQI rows, two alerts): headers and representations,
errors as problem details, and hostile query strings — every one a 4xx, never a 5xx, and the
database untouched. (The values over the whole platform: tests/integration/e2e/test_sharing.py.)"""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import httpx
import psycopg
import pytest

from tests.integration.api.conftest import T

pytestmark = pytest.mark.integration
AQ_A = "urn:ngsi-ld:AirQualityObserved:aq-a"
HOSTILE = [
    "pm25==1;DROP TABLE readings", "pm25==1' OR '1'='1", "'; SELECT pg_sleep(10); --", "(" * 500 + "pm25>1" + ")" * 500,
    "pm25>1;" * 200 + "pm25>1", "pm25==" + "9" * 5000, "pm25==1e999", 'name~=(a+)+$', 'name~=(x|x)*y', 'name~=[',
    "pm25>>1", "pm25==\"unclosed", "1==1", ";", "|", "()", "pm25==1)", "pm25==\u0000", "pm25==%00", "ä==1",
]
FILTERS = [
    "area eq 1; DROP TABLE readings", "(" * 3000 + "area eq 1" + ")" * 3000,
    "area eq 1 and " * 500 + "area eq 2", "area eq " + "9" * 5000, "pm2_5 eq 1e999", "area add 1 eq 2",
    "concat(kind,'x') eq 'y'", "kind/any(k: k eq 'x')", "nonexistent eq 1", "area eq 'text'", "'", "",
    "ts eq 2026-13-45T00:00:00Z", "device_id eq 'a\u0000b'", "contains(area, 'x')", "ts eq 99999-01-01T00:00:00Z",
    "pm2_5 gt 1 or", "pm2_5 in ()", "geo.distance(x, geography'POINT(0 0)') lt 1",
]


def get(api, path: str, accept: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.tokens['viewer']}"}
    if accept:
        headers["Accept"] = accept
    return httpx.get(api.url + path, params=params, headers=headers, timeout=30)


def test_content_negotiation_and_the_link_header(module_api):
    plain = get(module_api, "/ngsi-ld/v1/entities", type="AirQualityObserved")
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("application/json")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in plain.headers["link"]
    assert "/ngsi-ld/v1/jsonldContexts/citysense.jsonld" in plain.headers["link"]
    assert all("@context" not in e for e in plain.json())
    ld = get(module_api, "/ngsi-ld/v1/entities", "application/ld+json", type="AirQualityObserved")
    assert ld.headers["content-type"].startswith("application/ld+json") and "link" not in ld.headers
    assert all(e["@context"].endswith("/ngsi-ld/v1/jsonldContexts/citysense.jsonld") for e in ld.json())
    geo = get(module_api, "/ngsi-ld/v1/entities", "application/geo+json", type="AirQualityObserved")
    assert geo.headers["content-type"].startswith("application/geo+json") and geo.json()["type"] == "FeatureCollection"
    assert AQ_A in {f["id"] for f in geo.json()["features"]}
    feature = next(f for f in geo.json()["features"] if f["id"] == AQ_A)
    assert feature["geometry"] == {"type": "Point", "coordinates": [106.32625, 20.96038]}
    for accept in ("text/html", "application/xml", "application/geo+json;q=0"):
        r = get(module_api, "/ngsi-ld/v1/entities", accept, type="AirQualityObserved")
        assert r.status_code == 406 and r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/NotAcceptable"
    assert get(module_api, "/ngsi-ld/v1/types", "application/geo+json").status_code == 406
    # the preferred of several by q
    assert get(module_api, "/ngsi-ld/v1/entities", "application/json;q=0.5, application/ld+json",
               type="AirQualityObserved").headers["content-type"].startswith("application/ld+json")


def test_an_entity_normalized_and_simplified(module_api):
    e = get(module_api, f"/ngsi-ld/v1/entities/{AQ_A}").json()
    last = T + timedelta(minutes=59)  # the data set's last reading: pm2_5 = 59
    assert e["id"] == AQ_A and e["type"] == "AirQualityObserved"
    assert e["pm25"] == {"type": "Property", "value": 59.0, "observedAt": last.isoformat().replace("+00:00", "Z"),
                         "unitCode": "GQ"}
    assert e["refDevice"] == {"type": "Relationship", "object": "urn:ngsi-ld:Device:aq-a"}
    numeric = [v for v in e.values() if isinstance(v, dict) and isinstance(v.get("value"), (int, float))]
    assert numeric and all("observedAt" in v and "unitCode" in v for v in numeric)
    kv = get(module_api, f"/ngsi-ld/v1/entities/{AQ_A}", options="keyValues").json()
    assert kv["pm25"] == 59.0 and kv["location"] == {"type": "Point", "coordinates": [106.32625, 20.96038]}
    only = get(module_api, f"/ngsi-ld/v1/entities/{AQ_A}", attrs="pm25").json()
    assert set(only) == {"id", "type", "pm25"}
    area = get(module_api, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:area-10525").json()
    assert area["airQualityIndex"]["value"] == 160 and area["areaCode"]["value"] == 10525
    assert area["airQualityIndex"]["observedAt"] == (T + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    missing = get(module_api, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:nope")
    assert missing.status_code == 404 and missing.json()["type"].endswith("/ResourceNotFound")
    assert get(module_api, "/ngsi-ld/v1/entities/not-a-uri").status_code == 400


def test_types_contexts_and_keys(module_api):
    types = get(module_api, "/ngsi-ld/v1/types").json()
    assert types["type"] == "EntityTypeList" and types["typeList"] == ["AirQualityObserved"]
    details = get(module_api, "/ngsi-ld/v1/types", details="true").json()
    assert {"pm25", "airQualityIndex", "location"} <= set(details[0]["attributeNames"])
    ours = httpx.get(module_api.url + "/ngsi-ld/v1/jsonldContexts/citysense.jsonld", timeout=10)  # no key
    assert ours.status_code == 200 and ours.headers["content-type"].startswith("application/ld+json")
    assert ours.json()["@context"][-1].endswith("/ngsi-ld/v1/jsonldContexts/ngsi-ld-core-context-v1.8.jsonld")
    core = httpx.get(ours.json()["@context"][-1], timeout=10).json()
    assert core["@context"]["observedAt"] == {"@id": "ngsi-ld:observedAt", "@type": "DateTime"}
    assert httpx.get(module_api.url + "/ngsi-ld/v1/entities", timeout=10).status_code == 401
    assert httpx.get(module_api.url + "/odata/Areas", timeout=10).status_code == 401


def test_paging_limits_and_count(module_api):
    every = get(module_api, "/ngsi-ld/v1/entities", limit=1000, count="true")
    total = int(every.headers["NGSILD-Results-Count"])
    assert total == len(every.json()) == 4  # aq-a, and the AQI of 10507, 10525, 288
    seen = []
    for offset in range(0, total + 2):
        page = get(module_api, "/ngsi-ld/v1/entities", limit=1, offset=offset, count="true")
        assert int(page.headers["NGSILD-Results-Count"]) == total
        assert len(page.json()) == (1 if offset < total else 0)
        seen += [e["id"] for e in page.json()]
    assert seen == [e["id"] for e in every.json()] and len(set(seen)) == total
    assert get(module_api, "/ngsi-ld/v1/entities", limit=1001).status_code == 403
    assert get(module_api, "/ngsi-ld/v1/entities", limit=0, count="true").headers["NGSILD-Results-Count"] == str(total)


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_q_is_a_4xx(module_api, q):
    r = get(module_api, "/ngsi-ld/v1/entities", q=q)
    assert 400 <= r.status_code < 500, (q[:80], r.status_code, r.text[:300])
    r = get(module_api, "/ngsi-ld/v1/entities", idPattern=q)
    assert 200 <= r.status_code < 500, (q[:80], r.status_code, r.text[:300])


@pytest.mark.parametrize("expression", FILTERS)
def test_hostile_filter_is_a_4xx_or_501(module_api, expression):
    r = get(module_api, "/odata/Readings", **{"$filter": expression})
    assert 400 <= r.status_code < 500 or r.status_code == 501, (expression[:80], r.status_code, r.text[:300])
    assert r.headers.get("OData-Version") == "4.0" or r.status_code in (400, 401)


def test_an_injection_inside_a_string_is_only_a_value(module_api):
    """Quoted, the classic injection is a well-formed filter: it must match nothing (concatenated into
    SQL it would match every reading)."""
    r = get(module_api, "/odata/Readings", **{"$filter": "device_id eq 'x'' OR ''1''=''1'", "$count": "true"})
    assert r.status_code == 200 and r.json()["value"] == [] and r.json()["@odata.count"] == 0
    assert get(module_api, "/odata/Readings", **{"$filter": "device_id eq 'aq-a'", "$count": "true"}).json()[
        "@odata.count"] == 60
    r = get(module_api, "/ngsi-ld/v1/entities", q='areaServed=="x\' OR \'1\'=\'1"')
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("params", [
    {"timerel": "after", "timeAt": "9999-12-31T23:00:00Z"}, {"timerel": "before", "timeAt": "0001-01-01T00:00:00Z"},
    {"timerel": "between", "timeAt": "2026-01-01T00:00:00Z", "endTimeAt": "2026-01-01T00:00:00Z"},
    {"timerel": "between", "timeAt": "2026-01-01T00:00:00", "endTimeAt": "2026-01-02T00:00:00"},
    {"timerel": "between", "timeAt": "2026-01-01T00:00:00Z", "endTimeAt": "2026-03-01T00:00:00Z"},
    {"lastN": "5", "aggrMethods": "avg"}, {"lastN": "5", "aggrMethods": "median", "aggrPeriodDuration": "PT1H"},
    {"lastN": "5", "aggrMethods": "avg", "aggrPeriodDuration": "P1M"}, {"timeAt": "2026-01-01T00:00:00Z"}, {},
    {"lastN": "0"}, {"lastN": "x"}, {"timerel": "during", "timeAt": "2026-01-01T00:00:00Z"},
])
def test_bad_temporal_queries_are_4xx_or_501(module_api, params):
    r = get(module_api, f"/ngsi-ld/v1/temporal/entities/{AQ_A}", **params)
    assert 400 <= r.status_code < 500 or r.status_code == 501, (params, r.status_code, r.text[:300])
    assert r.json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


def test_hostile_strings_leave_the_database_as_it_was(module_api):
    with psycopg.connect(module_api.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 60


def test_odata_service_metadata_and_headers(module_api):
    root = get(module_api, "/odata")
    assert root.headers["OData-Version"] == "4.0"
    assert root.headers["content-type"].startswith("application/json;odata.metadata=minimal")
    assert {s["name"] for s in root.json()["value"]} == {"Areas", "Devices", "Readings", "HourlyAggregates", "Aqi",
                                                        "Alerts"}
    csdl = ElementTree.fromstring(get(module_api, "/odata/$metadata").text)
    ns = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
    sets = {e.get("Name") for e in csdl.iter("{http://docs.oasis-open.org/odata/ns/edm}EntitySet")}
    assert sets == {s["name"] for s in root.json()["value"]}
    reading = next(t for t in csdl.iterfind(".//edm:EntityType", ns) if t.get("Name") == "Reading")
    assert {p.get("Name") for p in reading.iterfind("edm:Key/edm:PropertyRef", ns)} == {"device_id", "ts", "status"}
    for option in ("$expand", "$apply", "$search"):
        assert get(module_api, "/odata/Areas", **{option: "x"}).status_code == 501
    assert get(module_api, "/odata/Nothing").status_code == 404
    assert get(module_api, "/odata/Areas", **{"$select": "code,nope"}).status_code == 400
    assert get(module_api, "/odata/Areas", **{"$orderby": "code sideways"}).status_code == 400


def test_odata_alerts_and_aqi_equal_sql(module_api):
    with psycopg.connect(module_api.dsn) as conn:
        expected = [r[0] for r in conn.execute("SELECT alert_id FROM alerts WHERE resolved_at IS NULL ORDER BY alert_id")]
        aqi = conn.execute("SELECT district, aqi FROM aqi WHERE aqi > 130 ORDER BY aqi DESC, district").fetchall()
    got = get(module_api, "/odata/Alerts", **{"$filter": "resolved_at eq null", "$select": "alert_id"}).json()
    assert [a["alert_id"] for a in got["value"]] == expected == ["al1"]
    got = get(module_api, "/odata/Aqi", **{"$filter": "aqi gt 130", "$orderby": "aqi desc,area", "$count": "true"})
    assert [(r["area"], r["aqi"]) for r in got.json()["value"]] == [tuple(r) for r in aqi] and got.json()["@odata.count"] == 2


@pytest.mark.parametrize("to", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_times_at_the_ends_of_the_calendar_are_a_400(module_api, to):
    """schemathesis found `to=0001-01-01T00:00:00Z`: the default `from` (a day before) overflowed into a 500."""
    r = get(module_api, "/api/v1/areas/10507/series", metric="pm2_5", bucket="1d", to=to)
    assert r.status_code == 400 and r.json()["errors"][0]["name"] == "to"
