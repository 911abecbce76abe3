"""Area registry: the units the platform reports on, in levels — communes, groups, the city.

An area set is a CSV (`telemetry/data/areas/<set>.csv`, or any file of the same columns:
code, name, kind, level, parent, lat, lon, …) and optionally a GeoJSON of its communes' boundaries
(`<set>.geojson`, one feature per commune, `properties.code`). Levels are roles in the hierarchy:
- `commune`: the units devices belong to (Hải Phòng's 114 phường, xã and đặc khu; in the legacy set
  `hai-duong-2023`, Hải Dương's 12 districts of before the 2025 merger);
- `group`: a reporting convenience, not a legal unit (in `hai-phong-2025`, the 27 former districts
  the communes grew from: the district level was abolished on 1 July 2025);
- `city`: the top (Hải Phòng, code 31; Hải Dương province, 30, in the legacy set).
`kind` keeps the legal type in Vietnamese (phường, xã, đặc khu, …). `lat`/`lon` is a point inside
the unit (not its centroid, not its committee's seat).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from enum import StrEnum
from pathlib import Path

from telemetry.boundaries import Boundaries
from telemetry.resources import data_path

DEFAULT_SET = "hai-phong-2025"
LEGACY_SET = "hai-duong-2023"


class Level(StrEnum):
    COMMUNE = "commune"
    GROUP = "group"
    CITY = "city"


@dataclass(frozen=True)
class Area:
    code: int
    name: str
    kind: str
    level: Level
    parent: int | None
    lat: float
    lon: float
    population: int | None = None


class PlacementError(ValueError):
    """A point that does not name exactly one commune."""


class AreaRegistry:
    def __init__(self, areas: list[Area], name: str = "custom", boundaries: Boundaries | None = None) -> None:
        self.name = name
        self._by_code = {a.code: a for a in areas}
        if len(self._by_code) != len(areas):
            raise ValueError(f"area set {name}: duplicate area codes")
        for a in areas:
            if a.parent is not None and a.parent not in self._by_code:
                raise ValueError(f"area set {name}: area {a.code} has parent {a.parent}, which is not in the set")
        self.boundaries = boundaries

    @classmethod
    def from_csv_text(cls, text: str, name: str = "custom", boundaries: Boundaries | None = None) -> AreaRegistry:
        return cls([Area(code=int(r["code"]), name=r["name"], kind=r.get("kind") or "", level=Level(r["level"]),
                         parent=int(r["parent"]) if r.get("parent") else None, lat=float(r["lat"]),
                         lon=float(r["lon"]), population=int(r["population"]) if r.get("population") else None)
                    for r in csv.DictReader(text.splitlines())], name, boundaries)

    @classmethod
    def from_file(cls, path: str | Path) -> AreaRegistry:
        """A set's CSV; its boundaries from the GeoJSON of the same name beside it, when there is one."""
        path = Path(path)
        geojson = path.with_suffix(".geojson")
        boundaries = Boundaries.from_file(geojson) if geojson.exists() else None
        return cls.from_csv_text(path.read_text(encoding="utf-8"), path.stem, boundaries)

    @classmethod
    def named(cls, name: str = DEFAULT_SET) -> AreaRegistry:
        """A packaged set (`hai-phong-2025`, `hai-duong-2023`) or the path of a CSV."""
        packaged = data_path(f"areas/{name}.csv")
        if packaged.exists():
            return cls.from_file(packaged)
        if Path(name).exists():
            return cls.from_file(name)
        raise ValueError(f"no area set {name!r}: use hai-phong-2025, hai-duong-2023, or the path of a CSV "
                         "with columns code,name,kind,level,parent,lat,lon")

    @classmethod
    def configured(cls, explicit: str | None = None) -> AreaRegistry:
        """The set a command uses: an explicit name or path, else `$CITYSENSE_AREA_SET`, else the default
        (the services read the same variable through their settings)."""
        return cls.named(explicit or os.environ.get("CITYSENSE_AREA_SET") or DEFAULT_SET)

    def get(self, code: int) -> Area | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(sorted(self._by_code.values(), key=lambda a: a.code))

    def __len__(self) -> int:
        return len(self._by_code)

    def at_level(self, level: Level) -> list[Area]:
        return [a for a in self if a.level is level]

    def communes(self) -> list[Area]:
        return self.at_level(Level.COMMUNE)

    def ancestors(self, code: int) -> list[Area]:
        """The area's parent, its parent's parent, … up to the city."""
        out, area = [], self._by_code[code]
        while area.parent is not None:
            area = self._by_code[area.parent]
            out.append(area)
        return out

    def group_of(self, code: int) -> Area | None:
        return next((a for a in self.ancestors(code) if a.level is Level.GROUP), None)

    def describe(self, code: int) -> dict:
        """An area's name and level with its group (former district) named: what listings print.
        A code outside the set gets None for each."""
        area = self.get(code)
        group = self.group_of(code) if area else None
        return {"name": area.name if area else None, "level": area.level.value if area else None,
                "group": group.code if group else None, "group_name": group.name if group else None}

    def children(self, code: int) -> list[Area]:
        return [a for a in self if a.parent == code]

    def communes_under(self, code: int) -> list[Area]:
        """Every commune below an area (itself, when it is one)."""
        area = self._by_code[code]
        if area.level is Level.COMMUNE:
            return [area]
        return [c for child in self.children(code) for c in self.communes_under(child.code)]

    def locate(self, lat: float, lon: float) -> list[Area]:
        """The communes whose boundary contains the point: one, normally; none outside every boundary
        (or without boundaries); two where the source data's boundaries overlap (then ask which)."""
        if self.boundaries is None:
            return []
        return [self._by_code[c] for c in self.boundaries.holding(lat, lon) if c in self._by_code]

    def nearest(self, lat: float, lon: float) -> tuple[Area, float]:
        """The commune nearest to the point and the distance in km (to its boundary, else its point)."""
        if self.boundaries is not None:
            code, km = self.boundaries.nearest(lat, lon)
            return self._by_code[code], km
        best = min(self.communes(), key=lambda a: (a.lat - lat) ** 2 + (a.lon - lon) ** 2)
        return best, Boundaries.km(lat, lon, best.lat, best.lon)

    def place(self, lat: float, lon: float) -> Area:
        """The one commune a device at the point belongs to; PlacementError (with the nearest commune
        and its distance, or the candidates) when the point is outside every boundary or ambiguous."""
        if self.boundaries is None:
            raise PlacementError(f"area set {self.name} has no boundaries: give the device's area with --area CODE")
        found = self.locate(lat, lon)
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(f"{a.code} {a.name}" for a in found)
            raise PlacementError(f"({lat}, {lon}) lies in {len(found)} communes whose boundaries overlap in the "
                                 f"source data ({names}): choose one with --area CODE")
        near, km = self.nearest(lat, lon)
        raise PlacementError(f"({lat}, {lon}) is outside every commune of {self.name}; the nearest is {near.code} "
                             f"{near.name}, {km:.1f} km away: check the coordinates (latitude first), or give "
                             "--area CODE")


@cache
def boundaries_notice(area_set: str = DEFAULT_SET) -> str:
    """The copyright line of an area set's boundaries and its licence's name (the notice travels with
    the boundaries wherever they are shown or given), or '' for a set without one."""
    try:
        text = data_path(f"areas/{area_set}.LICENSE").read_text()
    except OSError:
        return ""
    first = next((line.strip() for line in text.splitlines() if line.startswith("Copyright")), "")
    kind = text.strip().splitlines()[0].strip() if text.strip() else ""
    return f"{first} ({kind})" if first else ""
