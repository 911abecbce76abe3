"""Outlines of groups of areas: the edges of the members' boundaries that no two members of the
same group share, chained into lines (a former district drawn around its communes). Boundaries that
touch share their vertices exactly (the packaged sets do), so a shared edge is one that occurs twice."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

Point = tuple[float, float]
Edge = tuple[Point, Point]


def rings(geometry: dict) -> Iterator[list[list[float]]]:
    """Every ring (outer and holes) of a GeoJSON Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon
    else:
        raise ValueError(f"not a polygon: {geometry['type']}")


def _edge(a: Point, b: Point) -> Edge:
    return (a, b) if a <= b else (b, a)


def outer_edges(geometries: Iterable[dict]) -> set[Edge]:
    """The edges of these polygons that belong to exactly one of them."""
    counts: Counter[Edge] = Counter()
    for geometry in geometries:
        for ring in rings(geometry):
            points = [(float(p[0]), float(p[1])) for p in ring]
            counts.update({_edge(a, b) for a, b in zip(points, points[1:]) if a != b})
    return {edge for edge, n in counts.items() if n == 1}


def chain(edges: set[Edge]) -> list[list[Point]]:
    """The edges joined into as few lines as a walk finds: open lines start at their ends (points
    of odd degree), what is left are closed rings."""
    around: dict[Point, set[Point]] = defaultdict(set)
    for a, b in edges:
        around[a].add(b)
        around[b].add(a)
    lines = []
    starts = [p for p, n in around.items() if len(n) % 2] + list(around)
    for start in starts:
        while around[start]:
            line, here = [start], start
            while around[here]:
                step = min(around[here])  # deterministic
                around[here].discard(step)
                around[step].discard(here)
                line.append(step)
                here = step
            lines.append(line)
    return lines


def outline(geometries: Iterable[dict]) -> dict:
    """A GeoJSON MultiLineString around the union of these polygons (and around its holes)."""
    return {"type": "MultiLineString",
            "coordinates": [[list(p) for p in line] for line in chain(outer_edges(geometries))]}
