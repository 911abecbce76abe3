"""The native JSON format, and its pydantic model (the source of the published JSON Schema).

    {"ts": "2026-11-25T08:00:00+07:00" | 1764032400000, "seq": 42, "status": "measuring",
     "metrics": {"pm2_5": 41.3, "co": 1.2}, "units": {"co": "mg/m3"}}

`status` may also be a mapping metric -> status, since each value carries its own status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from telemetry.formats.observation import Observation, RawValue, parse_seq, parse_status, parse_time
from telemetry.reading import Status
from telemetry.rejections import Reason, Rejected


class NativePayload(BaseModel):
    """Native telemetry payload published by a device on its uplink topic."""

    model_config = ConfigDict(title="citysense native telemetry payload", extra="allow")

    ts: datetime | Annotated[int, Field(ge=0)] = Field(
        description="Time of measurement: ISO 8601 with a UTC offset, or epoch milliseconds"
    )
    seq: Annotated[int, Field(ge=0)] | None = Field(default=None, description="Device sequence number")
    status: Status | dict[str, Status] = Field(
        default=Status.MEASURING, description="Device status for all values, or per metric"
    )
    metrics: dict[str, float] = Field(min_length=1, description="Metric name -> value (see the metric catalogue)")
    units: dict[str, str] | None = Field(
        default=None, description="Metric name -> unit when not the canonical unit (e.g. co: mg/m3)"
    )


def looks_native(value: object) -> bool:
    return isinstance(value, dict) and "metrics" in value


def parse(value: dict) -> list[Observation]:
    if "ts" not in value:
        raise Rejected(Reason.MISSING_FIELD, "native payload needs 'ts'")
    metrics = value["metrics"]
    if not isinstance(metrics, dict):
        raise Rejected(Reason.WRONG_TYPE, "'metrics' must be an object of metric name -> number")
    if not metrics:
        raise Rejected(Reason.MISSING_FIELD, "'metrics' is empty")
    units = value.get("units") or {}
    if not isinstance(units, dict) or not all(isinstance(u, str) for u in units.values()):
        raise Rejected(Reason.WRONG_TYPE, "'units' must be an object of metric name -> unit text")
    for name in units:
        if name not in metrics:
            raise Rejected(Reason.BAD_UNIT, f"unit given for {name!r}, which is not in 'metrics'")
    status = value.get("status", Status.MEASURING.value)
    if isinstance(status, dict):
        per_metric = {k: parse_status(v, f"status.{k}") for k, v in status.items()}
        default = Status.MEASURING
    else:
        per_metric, default = {}, parse_status(status)
    obs = Observation(ts=parse_time(value["ts"], "ts"), seq=parse_seq(value.get("seq")))
    # Keys are unique already (the strict JSON parser refuses duplicates).
    obs.values = {
        name: RawValue(raw, units.get(name), per_metric.get(name, default) if per_metric else default)
        for name, raw in metrics.items()
    }
    return [obs]
