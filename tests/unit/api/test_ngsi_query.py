"""NGSI-LD's query language and geo-queries over hand-made entities: what each term selects, the
precedence of ; over |, ranges and lists, sub-attributes, and the patterns and shapes refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.ngsi import geo, query, temporal
from api.ngsi.exceptions import NgsiError

pytestmark = pytest.mark.unit


def entity(name: str, pm25: float | None, lon: float, lat: float, level: str = "commune") -> dict:
    out = {"id": f"urn:ngsi-ld:AirQualityObserved:{name}", "type": "AirQualityObserved",
           "areaLevel": {"type": "Property", "value": level},
           "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
           "refDevice": {"type": "Relationship", "object": f"urn:ngsi-ld:Device:{name}"}}
    if pm25 is not None:
        out["pm25"] = {"type": "Property", "value": pm25, "observedAt": "2026-12-04T01:00:00Z", "unitCode": "GQ"}
    return out


E = [entity("a", 10.0, 106.30, 20.90), entity("b", 60.0, 106.40, 20.95, "group"), entity("c", None, 106.50, 21.00)]


def select(q: str) -> list[str]:
    tree = query.parse(q)
    return [e["id"].rsplit(":", 1)[1] for e in E if query.matches(tree, e)]


@pytest.mark.parametrize("q, expected", [
    ("pm25>30", ["b"]), ("pm25<=10", ["a"]), ("pm25!=10", ["b"]), ("pm25", ["a", "b"]), ("pm25==10..60", ["a", "b"]),
    ("pm25==11..59", []), ("pm25==10,60", ["a", "b"]), ("pm25!=10,60", []), ('areaLevel=="group"', ["b"]),
    ('areaLevel~="^comm"', ["a", "c"]), ('areaLevel!~="^comm"', ["b"]), ("refDevice==urn:ngsi-ld:Device:c", ["c"]),
    ("pm25.observedAt>2026-12-04T00:00:00Z", ["a", "b"]), ("pm25.observedAt<2026-12-04T00:00:00Z", []),
    ('pm25>30|areaLevel=="commune";pm25<20', ["a", "b"]),  # ; binds tighter: b | (a)
    ('(pm25>30|areaLevel=="commune");pm25<20', ["a"]), ("pm25>\"x\"", []), ("pm25==true", []),
])
def test_terms_select_what_they_say(q, expected):
    assert select(q) == expected


@pytest.mark.parametrize("q", ["", "pm25>", "pm25==\"x", "(pm25>1", "pm25>1)", "1>2", "pm25>>1", "pm25==x'y",
                               "(" * 20 + "pm25>1" + ")" * 20, ";".join(["pm25>1"] * 70), 'a~="(a+)+$"',
                               'a~="(x|y)*z"', 'a~="(a*)*"', 'a~="["', 'a~="' + "x" * 300 + '"', "pm25==1e999"])
def test_what_is_refused_is_a_400(q):
    with pytest.raises(NgsiError) as caught:
        query.parse(q)
    assert caught.value.status == 400 and caught.value.type_uri.endswith("/BadRequestData")


def test_safe_patterns_pass():
    assert query.safe_pattern(r"^aq-(105\d\d)$").search("aq-10507")
    assert query.safe_pattern(r"(ab)+c").search("ababc")  # a repeated group without repetition inside


def test_near_and_within_by_hand():
    # 0.01° of latitude is 1,111.95 m on the mean sphere (6,371.0088 km)
    near = geo.parse("near;maxDistance==1112", "Point", "[106.30,20.91]")
    assert [e["id"][-1] for e in E if near.matches(e)] == ["a"]
    assert not geo.parse("near;maxDistance==1111", "Point", "[106.30,20.91]").matches(E[0])
    assert geo.parse("near;minDistance==1111", "Point", "[106.30,20.91]").matches(E[0])
    box = "[[[106.35,20.9],[106.45,20.9],[106.45,21.0],[106.35,21.0],[106.35,20.9]]]"
    assert [e["id"][-1] for e in E if geo.parse("within", "Polygon", box).matches(e)] == ["b"]
    assert [e["id"][-1] for e in E if geo.parse("disjoint", "Polygon", box).matches(e)] == ["a", "c"]
    holed = ("[[[106.35,20.9],[106.45,20.9],[106.45,21.0],[106.35,21.0],[106.35,20.9]],"
             "[[106.39,20.94],[106.41,20.94],[106.41,20.96],[106.39,20.96],[106.39,20.94]]]")
    assert not geo.parse("within", "Polygon", holed).matches(E[1])


@pytest.mark.parametrize("georel, geometry, coordinates, status", [
    ("near", "Point", "[106,20]", 400), ("near;maxDistance==-1", "Point", "[106,20]", 400),
    ("near;maxDistance==1", "Polygon", "[106,20]", 400), ("near;maxDistance==1", "Point", "[200,20]", 400),
    ("near;maxDistance==1", "Point", "not json", 400), ("within", "Polygon", "[[[0,0],[1,0],[0,0]]]", 400),
    ("within", "Point", "[106,20]", 501), ("equals", "Point", "[106,20]", 501), ("far", "Point", "[1,2]", 400),
    ("within", "Polygon", "[" * 20000, 400), (None, "Point", "[1,2]", 400),
])
def test_bad_geo_queries(georel, geometry, coordinates, status):
    with pytest.raises(NgsiError) as caught:
        geo.parse(georel, geometry, coordinates)
    assert caught.value.status == status


@pytest.mark.parametrize("text, expected", [("PT1H", timedelta(hours=1)), ("P1D", timedelta(days=1)),
                                            ("PT15M", timedelta(minutes=15)), ("P1DT12H", timedelta(hours=36))])
def test_durations(text, expected):
    assert temporal.duration(text) == expected


@pytest.mark.parametrize("text, status", [("P1M", 501), ("P1Y", 501), ("PT", 400), ("1H", 400), ("PT30S", 400),
                                          ("P99999D", 400)])
def test_durations_refused(text, status):
    with pytest.raises(NgsiError) as caught:
        temporal.duration(text)
    assert caught.value.status == status
    assert caught.value.type_uri.endswith("/OperationNotSupported" if status == 501 else "/BadRequestData")
