"""Outlines of groups: the edges no two members share, chained into lines."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from telemetry.areas import AreaRegistry, Level
from telemetry.outlines import chain, outer_edges, outline, rings
from telemetry.resources import data_path

pytestmark = pytest.mark.unit


def square(x: float, y: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def test_two_squares_side_by_side_lose_their_shared_edge():
    got = outline([square(0, 0), square(1, 0)])
    assert len(got["coordinates"]) == 1
    ring = [tuple(p) for p in got["coordinates"][0]]
    assert ring[0] == ring[-1] and len(ring) == 7  # a closed ring of the 2 × 1 rectangle's six unit edges
    assert set(ring) == {(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)}
    assert not {((1.0, 0.0), (1.0, 1.0))} & {tuple(sorted(e)) for e in zip(ring, ring[1:])}


def test_a_hole_is_outlined_and_a_ring_of_squares_has_two_lines():
    around = [square(x, y) for x in range(3) for y in range(3) if (x, y) != (1, 1)]
    lines = chain(outer_edges(around))
    assert sorted(len(line) for line in lines) == [5, 13]  # the hole's 4 edges, the outside's 12


def test_every_line_uses_each_outer_edge_once():
    edges = outer_edges([square(0, 0), square(1, 0), square(1, 1), square(5, 5)])
    used = [tuple(sorted(pair)) for line in chain(edges) for pair in zip(line, line[1:])]
    assert sorted(used) == sorted(edges) and len(used) == len(set(used))


def test_not_a_polygon_is_refused():
    with pytest.raises(ValueError, match="not a polygon"):
        list(rings({"type": "Point", "coordinates": [0, 0]}))


def test_groups_of_hai_phong_keep_borders_between_groups_only():
    areas = AreaRegistry.named()
    shapes = {int(f["properties"]["code"]): f["geometry"] for f in
              json.loads(data_path("areas/hai-phong-2025.geojson").read_text())["features"]}
    owners = defaultdict(Counter)  # edge -> per group, how many of its communes have it
    for code, geometry in shapes.items():
        for ring in rings(geometry):
            for a, b in zip(ring, ring[1:]):
                owners[tuple(sorted([tuple(a), tuple(b)]))][areas.group_of(code).code] += 1
    drawn = {}
    for group in (a.code for a in areas.at_level(Level.GROUP)):
        lines = outline([shapes[c.code] for c in areas.communes_under(group)])["coordinates"]
        drawn[group] = {tuple(sorted([tuple(a), tuple(b)])) for line in lines for a, b in zip(line, line[1:])}
    between = [e for e, g in owners.items() if len(g) == 2]
    inside = [e for e, g in owners.items() if list(g.values()) == [2]]
    assert len(between) > 100 and len(inside) > 500
    for edge, groups in owners.items():  # in a group's outline exactly when one commune of it has the edge
        assert {g for g, d in drawn.items() if edge in d} == {g for g, n in groups.items() if n == 1}, edge
