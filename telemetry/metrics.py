"""The metric catalogue: name, canonical unit, plausible range, sensor kinds (data in data/metrics.csv)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from telemetry.resources import data_csv


class SensorKind(StrEnum):
    AIR_QUALITY = "air_quality"
    WEATHER = "weather"
    NOISE = "noise"
    WATER_LEVEL = "water_level"
    TRAFFIC = "traffic"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    min: float
    max: float
    kinds: frozenset[SensorKind]
    description: str

    def in_range(self, value: float) -> bool:
        return self.min <= value <= self.max


@cache
def catalogue() -> dict[str, Metric]:
    return {
        row["name"]: Metric(
            name=row["name"],
            unit=row["unit"],
            min=float(row["min"]),
            max=float(row["max"]),
            kinds=frozenset(SensorKind(k) for k in row["kinds"].split()),
            description=row["description"],
        )
        for row in data_csv("metrics.csv")
    }


def metric(name: str) -> Metric | None:
    return catalogue().get(name)


def metrics_of(kind: SensorKind) -> list[str]:
    return [m.name for m in catalogue().values() if kind in m.kinds]


POLLUTANTS = ("pm2_5", "pm10", "co", "no2", "so2", "o3")
TRAFFIC_COUNTS = ("vehicles_motorbike", "vehicles_car", "vehicles_truck_bus", "vehicles_total")
