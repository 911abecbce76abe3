"""NGSI-LD geo-queries over entities' `location` (Points): `near;maxDistance==m` / `near;minDistance==m`
from a Point, and `within`, `intersects`, `disjoint` of a Polygon or MultiPolygon (holes honoured).
Distances on the sphere (haversine), containment by ray casting — telemetry/boundaries.py's."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from api.ngsi.exceptions import NgsiError
from telemetry.boundaries import Boundaries, Shape

MAX_VERTICES = 10_000
RELATIONS = ("near", "within", "intersects", "disjoint")


def bad(detail: str) -> NgsiError:
    return NgsiError(400, "BadRequestData", detail)


@dataclass(frozen=True)
class GeoQuery:
    georel: str
    point: tuple[float, float] | None = None  # (lon, lat) of near
    max_m: float | None = None
    min_m: float | None = None
    shape: Shape | None = None

    def matches(self, entity: dict, geoproperty: str = "location") -> bool:
        value = (entity.get(geoproperty) or {}).get("value") or {}
        if value.get("type") != "Point":
            return False
        lon, lat = value["coordinates"][:2]
        if self.georel == "near":
            metres = Boundaries.km(lat, lon, self.point[1], self.point[0]) * 1000
            return (self.max_m is None or metres <= self.max_m) and (self.min_m is None or metres >= self.min_m)
        inside = self.shape.contains(lon, lat)
        return not inside if self.georel == "disjoint" else inside


def _position(p) -> tuple[float, float]:
    if (not isinstance(p, list) or len(p) not in (2, 3)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p)):
        raise bad(f"coordinates: {str(p)[:60]} is not a [longitude, latitude] position")
    lon, lat = float(p[0]), float(p[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise bad(f"coordinates: [{lon}, {lat}] is not on the Earth (longitude first)")
    return lon, lat


def _polygons(geometry: str, coords) -> list[list[list[tuple[float, float]]]]:
    polygons = [coords] if geometry == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise bad(f"coordinates are not a {geometry}")
    out = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon or not all(isinstance(r, list) for r in polygon):
            raise bad(f"coordinates are not a {geometry}")
        rings = [[_position(p) for p in ring] for ring in polygon]
        if any(len(r) < 4 or r[0] != r[-1] for r in rings):
            raise bad("each ring of a polygon needs at least 4 positions, the last equal to the first")
        out.append(rings)
    return out


def parse(georel: str | None, geometry: str | None, coordinates: str | None) -> GeoQuery | None:
    if georel is None and geometry is None and coordinates is None:
        return None
    if not (georel and geometry and coordinates):
        raise bad("a geo-query needs georel, geometry and coordinates together")
    relation, *modifiers = georel.split(";")
    if relation not in RELATIONS:
        raise NgsiError(501 if relation in ("contains", "overlaps", "equals") else 400,
                        "OperationNotSupported" if relation in ("contains", "overlaps", "equals") else "BadRequestData",
                        f"georel {relation!r}: this broker answers {', '.join(RELATIONS)}")
    if coordinates.count("[") > MAX_VERTICES:
        raise bad(f"coordinates of more than {MAX_VERTICES} positions")
    try:
        coords = json.loads(coordinates)
    except ValueError:
        raise bad("coordinates are not JSON (e.g. [106.33,20.94])")
    if relation == "near":
        if geometry != "Point":
            raise bad("near needs geometry=Point")
        limits = {}
        for modifier in modifiers:
            name, _, value = modifier.partition("==")
            if name not in ("maxDistance", "minDistance"):
                raise bad(f"georel near: unknown modifier {name!r} (maxDistance==m or minDistance==m)")
            try:
                limits[name] = float(value)
            except ValueError:
                raise bad(f"georel near: {name} is not a number of metres")
            if not math.isfinite(limits[name]) or limits[name] < 0:
                raise bad(f"georel near: {name} must be a finite number of metres, 0 or more")
        if not limits:
            raise bad("georel near needs maxDistance==m or minDistance==m")
        return GeoQuery("near", _position(coords), limits.get("maxDistance"), limits.get("minDistance"))
    if modifiers:
        raise bad(f"georel {relation} takes no modifier")
    if geometry not in ("Polygon", "MultiPolygon"):
        raise NgsiError(501, "OperationNotSupported", f"{relation} of a {geometry}: this broker answers it for "
                                                      "Polygon and MultiPolygon (entities are Points)")
    polygons = _polygons(geometry, coords)
    xs = [x for polygon in polygons for x, _ in polygon[0]]
    ys = [y for polygon in polygons for _, y in polygon[0]]
    return GeoQuery(relation, shape=Shape(0, polygons, (min(xs), min(ys), max(xs), max(ys))))
