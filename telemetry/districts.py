"""District registry: areas with codes (Hải Dương's 12 district-level units by default).

Loadable from any CSV with columns code,name,kind,lat,lon[,population,population_year], so another
province, or the commune-level units that replaced districts in 2025, needs no code change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from telemetry.resources import data_text


@dataclass(frozen=True)
class District:
    code: int
    name: str
    kind: str
    lat: float
    lon: float
    population: int | None = None


class DistrictRegistry:
    def __init__(self, districts: list[District]) -> None:
        self._by_code = {d.code: d for d in districts}
        if len(self._by_code) != len(districts):
            raise ValueError("duplicate district codes")

    @classmethod
    def from_csv_text(cls, text: str) -> DistrictRegistry:
        rows = csv.DictReader(text.splitlines())
        return cls([
            District(
                code=int(r["code"]), name=r["name"], kind=r.get("kind") or "district",
                lat=float(r["lat"]), lon=float(r["lon"]),
                population=int(r["population"]) if r.get("population") else None,
            )
            for r in rows
        ])

    @classmethod
    def from_file(cls, path: str | Path) -> DistrictRegistry:
        return cls.from_csv_text(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def default(cls) -> DistrictRegistry:
        return cls.from_csv_text(data_text("districts.csv"))

    def get(self, code: int) -> District | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(sorted(self._by_code.values(), key=lambda d: d.code))

    def __len__(self) -> int:
        return len(self._by_code)
