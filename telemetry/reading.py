"""The one internal reading model, whatever the input format, and its Kafka serialization."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from telemetry import SCHEMA_VERSION
from telemetry.metrics import SensorKind, catalogue

DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Status(StrEnum):
    """Device status carried with each value (Circular 10/2021/TT-BTNMT): only `measuring` counts
    in aggregates, AQI and alerts; the others are stored but never aggregated."""

    MEASURING = "measuring"
    CALIBRATING = "calibrating"
    ERROR = "error"


class PayloadFormat(StrEnum):
    NATIVE = "native"
    SENML = "senml"
    NGSI_LD = "ngsi-ld"


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class Reading(BaseModel):
    """One device's values at one instant, in canonical units. Identity of each value:
    (device_id, ts, metric)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = SCHEMA_VERSION
    device_id: Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
    district: Annotated[int, Field(ge=0, le=999_999)]
    kind: SensorKind
    ts: AwareDatetime
    received_at: AwareDatetime
    seq: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    status: Status = Status.MEASURING
    metrics: dict[str, float]
    format: PayloadFormat = PayloadFormat.NATIVE
    # Set only when the device published under its former district's code (a device configured
    # before the 2025 merger): `district` is then its registered commune, this the topic's code.
    topic_area: Annotated[int, Field(ge=0, le=999_999)] | None = None

    @field_validator("ts", "received_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @model_validator(mode="after")
    def _check_metrics(self) -> Reading:
        if not self.metrics:
            raise ValueError("a reading needs at least one metric")
        cat = catalogue()
        for name, value in self.metrics.items():
            m = cat.get(name)
            if m is None:
                raise ValueError(f"unknown metric {name!r}")
            if self.kind not in m.kinds:
                raise ValueError(f"metric {name!r} is not measured by {self.kind} devices")
            if not math.isfinite(value) or not m.in_range(value):
                raise ValueError(f"{name}={value} outside {m.min}..{m.max} {m.unit}")
        return self

    @property
    def counts(self) -> bool:
        """True when the values may count in aggregates, AQI and alerts."""
        return self.status is Status.MEASURING

    def to_json(self) -> bytes:
        # The instance's own field dict, in declaration order (orjson writes enums, datetimes and
        # floats itself): 5x faster than model_dump() and the same bytes.
        return orjson.dumps(self.__dict__, option=orjson.OPT_UTC_Z)

    @classmethod
    def from_json(cls, data: bytes | str) -> Reading:
        return cls.model_validate_json(data)
