"""The area sets: today's 114 communes of Hải Phòng with their groups and the city, the legacy set,
and placing a point in its commune by boundary."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import pytest

from telemetry.areas import AreaRegistry, Level, PlacementError
from telemetry.resources import data_path

# Xã Cẩm Giang and Xã Cẩm Giàng: the source dataset gives both the same boundary and the same point
SAME_GEOMETRY = {10888, 10903}


@pytest.fixture(scope="module")
def haiphong() -> AreaRegistry:
    return AreaRegistry.named("hai-phong-2025")


def test_today_s_territory_as_the_decision_counts_it(haiphong):
    communes = haiphong.communes()
    # 114 communes: 45 phường, 67 xã, 2 đặc khu; 64 cover the former Hải Dương (Decision 19/2025/QĐ-TTg)
    assert len(communes) == 114
    assert Counter(c.kind for c in communes) == {"phường": 45, "xã": 67, "đặc khu": 2}
    assert all(10000 <= c.code <= 99999 for c in communes)
    assert len(haiphong.at_level(Level.GROUP)) == 27 and [a.code for a in haiphong.at_level(Level.CITY)] == [31]
    assert len(haiphong.communes_under(31)) == 114
    assert sum(len(haiphong.communes_under(g.code)) for g in haiphong.at_level(Level.GROUP)) == 114
    former_hai_duong = [g for g in haiphong.at_level(Level.GROUP) if g.code <= 301]
    assert sum(len(haiphong.communes_under(g.code)) for g in former_hai_duong) == 64
    ward = haiphong.get(10507)
    assert ward.name == "Phường Thành Đông" and [a.code for a in haiphong.ancestors(10507)] == [288, 31]
    assert haiphong.group_of(10507).name == "Thành phố Hải Dương (cũ)"


def test_every_representative_point_is_placed_in_its_own_commune(haiphong):
    wrong = {}
    for c in haiphong.communes():
        placed = {a.code for a in haiphong.locate(c.lat, c.lon)}
        expected = SAME_GEOMETRY if c.code in SAME_GEOMETRY else {c.code}
        if placed != expected:
            wrong[c.code] = placed
    assert not wrong
    assert haiphong.boundaries.same_geometry() == [SAME_GEOMETRY]  # the one defect of the source data
    assert haiphong.boundaries.codes() == {c.code for c in haiphong.communes()}


def _shared_edges() -> dict[tuple, set[int]]:
    """Edges (pairs of vertices) that two communes' boundaries have in common, read from the GeoJSON
    directly — not through the code under test."""
    data = json.loads(data_path("areas/hai-phong-2025.geojson").read_text(encoding="utf-8"))
    edges: dict[tuple, set[int]] = defaultdict(set)
    for feature in data["features"]:
        code = int(feature["properties"]["code"])
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                for a, b in zip(ring, ring[1:]):
                    if a != b:
                        edges[tuple(sorted((tuple(a), tuple(b))))].add(code)
    return {e: codes for e, codes in edges.items() if len(codes) == 2 and not codes & SAME_GEOMETRY}


def test_either_side_of_a_shared_border_goes_to_the_commune_on_that_side(haiphong):
    checked, wrong = 0, []
    pairs = set()
    for (a, b), codes in _shared_edges().items():
        k = math.cos(math.radians((a[1] + b[1]) / 2))
        dx, dy = (b[0] - a[0]) * k, b[1] - a[1]
        length_m = math.hypot(dx, dy) * 111_195
        if length_m < 100:  # too short to step 3 m off it without meeting another edge
            continue
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        nx, ny = -dy / math.hypot(dx, dy), dx / math.hypot(dx, dy)  # unit normal, in scaled degrees
        step = 3 / 111_195
        sides = [{c.code for c in haiphong.locate(my + s * ny * step, mx + s * nx * step / k)} for s in (1, -1)]
        if not (len(sides[0]) == len(sides[1]) == 1 and sides[0] | sides[1] == codes):
            wrong.append((codes, sides))
        checked += 1
        pairs.add(frozenset(codes))
    assert checked > 500 and len(pairs) > 150, (checked, len(pairs))
    assert not wrong, wrong[:5]


def test_a_point_outside_every_boundary_names_the_nearest_commune(haiphong):
    # 1 km due east of Bạch Long Vĩ's easternmost vertex: open sea, 100 km from any other commune
    data = json.loads(data_path("areas/hai-phong-2025.geojson").read_text(encoding="utf-8"))
    island = next(f for f in data["features"] if f["properties"]["code"] == "11948")
    rings = island["geometry"]["coordinates"] if island["geometry"]["type"] == "Polygon" else \
        [r for p in island["geometry"]["coordinates"] for r in p]
    lon, lat = max((v for ring in rings for v in ring), key=lambda v: v[0])
    east = lon + 1.0 / (111.195 * math.cos(math.radians(lat)))
    assert haiphong.locate(lat, east) == []
    area, km = haiphong.nearest(lat, east)
    assert area.code == 11948 and km == pytest.approx(1.0, abs=0.02)


def test_the_legacy_set_of_hai_duong_s_districts():
    legacy = AreaRegistry.named("hai-duong-2023")
    assert [a.code for a in legacy.communes()] == [288, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300]
    assert {a.parent for a in legacy.communes()} == {30} and legacy.boundaries is None
    assert legacy.locate(20.94, 106.33) == []
    assert legacy.nearest(20.94, 106.331)[0].code == 288


def test_any_province_s_list_in_the_same_format(tmp_path):
    path = tmp_path / "elsewhere.csv"
    path.write_text("code,name,kind,level,parent,lat,lon\n1,Tỉnh A,tỉnh,city,,21,105\n"
                    "101,Xã B,xã,commune,1,21.1,105.1\n", encoding="utf-8")
    areas = AreaRegistry.named(str(path))
    assert [a.name for a in areas.communes()] == ["Xã B"] and areas.name == "elsewhere"
    with pytest.raises(ValueError, match="parent 7"):
        AreaRegistry.from_csv_text("code,name,kind,level,parent,lat,lon\n101,Xã B,xã,commune,7,21.1,105.1\n")
    with pytest.raises(ValueError, match="no area set"):
        AreaRegistry.named("atlantis-2030")


def test_placing_a_device_names_one_commune_or_says_why_not(haiphong):
    ward = haiphong.get(10507)
    assert haiphong.place(ward.lat, ward.lon).code == 10507
    giang = haiphong.get(10888)
    with pytest.raises(PlacementError, match="--area") as ambiguous:
        haiphong.place(giang.lat, giang.lon)
    assert "10888" in str(ambiguous.value) and "10903" in str(ambiguous.value)
    # latitude and longitude swapped: far outside, the message names the nearest commune and the fix
    with pytest.raises(PlacementError, match=r"nearest is \d{5} .*km away.*latitude first"):
        haiphong.place(ward.lon, ward.lat)
    with pytest.raises(PlacementError, match="no boundaries"):
        AreaRegistry.named("hai-duong-2023").place(20.94, 106.33)
