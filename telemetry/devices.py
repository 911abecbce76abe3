"""Device registry: device id -> district, sensor kind, location, thresholds (loaded from a JSON file).

The file is `{"devices": [{...}, ...]}` (or a bare list). The database-backed registry (storage)
holds the same fields. Used to refuse unknown devices and a device publishing under another
district's topic.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from telemetry.metrics import SensorKind
from telemetry.reading import DEVICE_ID_PATTERN


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    REVOKED = "revoked"


class NoiseZone(StrEnum):
    SPECIAL = "special"  # hospitals, libraries, nurseries, schools, places of worship
    NORMAL = "normal"    # residential, hotels, offices


class Device(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    district: int
    kind: SensorKind
    lat: float | None = None
    lon: float | None = None
    name: str | None = None
    installed: date | None = None
    status: DeviceStatus = DeviceStatus.ACTIVE
    interval_s: Annotated[int, Field(gt=0)] = 60
    flood_threshold_cm: float | None = None  # water-level gauges
    zone: NoiseZone | None = None            # noise meters
    road: str | None = None                  # traffic counters
    river: str | None = None                 # water-level gauges


_DEVICES = TypeAdapter(list[Device])


class DeviceRegistry:
    def __init__(self, devices: list[Device]) -> None:
        self._by_id = {d.device_id: d for d in devices}
        if len(self._by_id) != len(devices):
            raise ValueError("duplicate device ids in the registry")

    @classmethod
    def from_json(cls, data: str | bytes) -> DeviceRegistry:
        raw = json.loads(data)
        if isinstance(raw, dict):
            raw = raw.get("devices", [])
        return cls(_DEVICES.validate_python(raw))

    @classmethod
    def from_file(cls, path: str | Path) -> DeviceRegistry:
        return cls.from_json(Path(path).read_bytes())

    def to_json(self) -> str:
        return json.dumps(
            {"devices": [d.model_dump(mode="json", exclude_none=True) for d in self]}, ensure_ascii=False, indent=2
        )

    def write(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    def get(self, device_id: str) -> Device | None:
        return self._by_id.get(device_id)

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._by_id

    def __iter__(self):
        return iter(sorted(self._by_id.values(), key=lambda d: d.device_id))

    def __len__(self) -> int:
        return len(self._by_id)


def sample_registry() -> DeviceRegistry:
    """The registry shipped with the package: one device of each kind per Hải Dương district."""
    from telemetry.resources import data_text

    return DeviceRegistry.from_json(data_text("devices.sample.json"))
