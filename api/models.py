"""Response models of the API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

LevelName = Literal["commune", "group", "city"]


class Area(BaseModel):
    code: int
    name: str
    kind: str
    level: LevelName
    parent: int | None
    lat: float | None
    lon: float | None
    population: int | None = None
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON geometry (with boundary=true)")


class Aqi(BaseModel):
    area: int
    period: Literal["hour", "day"]
    start: datetime
    end: datetime
    aqi: int
    level_vi: str
    level_en: str
    colour: list[int]
    dominant: str | None
    nowcast: dict[str, float | None] | None = None
    concentrations: dict[str, Any] | None = None
    worst_area: int | None = Field(None, description="a group's or the city's: the commune whose AQI it is")
    areas: int | None = None


class LatestValue(BaseModel):
    """A metric's latest window of the area itself (a group's and the city's are their roll-ups)."""

    metric: str
    unit: str | None
    mean: float | None
    min: float | None
    max: float | None
    count: int
    window_start: datetime
    window_s: int


class Alert(BaseModel):
    alert_id: str
    area: int
    rule: str
    subject: str
    state: str = Field(description="the stream's lifecycle: open, update, resolved, no_data")
    severity: str
    value: float | None
    peak: float | None
    threshold: float | None
    unit: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    operator_state: Literal["new", "acknowledged", "closed"] = Field(
        "new", description="the operators' dimension (actions), beside the stream's state")
    assignee: str | None = None


class DeviceHealthSummary(BaseModel):
    devices: int
    reporting_last_hour: int
    silent: int
    clock_skewed: int


class AreaState(BaseModel):
    area: Area
    aqi: Aqi | None
    latest: list[LatestValue]
    open_alerts: list[Alert]
    devices: DeviceHealthSummary


class SeriesPoint(BaseModel):
    start: datetime
    count: int
    min: float | None
    max: float | None
    mean: float | None


class Series(BaseModel):
    area: int | None = None
    device_id: str | None = None
    metric: str
    bucket: str
    source: Literal["aggregates", "readings"]
    points: list[SeriesPoint]


class Action(BaseModel):
    action_id: int
    action: Literal["acknowledge", "assign", "comment", "close"]
    actor: str
    assignee: str | None
    comment: str | None
    reason: str | None
    at: datetime
    published: bool


class TimelineEntry(BaseModel):
    at: datetime
    kind: Literal["stream", "operator"]
    what: str
    by: str | None = None
    detail: str | None = None


class AlertDetail(Alert):
    actions: list[Action]
    timeline: list[TimelineEntry]


class Device(BaseModel):
    device_id: str
    area: int
    kind: str
    status: str
    interval_s: int
    last_seen: datetime | None
    messages_last_hour: int
    rejects_24h: dict[str, int]
    clock: str | None = Field(None, description="the gateway's last judgement of its clock: ok, fast, slow")
    clock_skew_s: float | None = None
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    zone: str | None = Field(None, description="a noise meter's zone (QCVN 26:2010): special or normal")
    flood_threshold_cm: float | None = Field(None, description="a water gauge's flood threshold")
    road: str | None = None
    river: str | None = None
    last_status: str | None = Field(None, description="of the last reading: measuring, calibrating, error")
    latest: dict[str, float] = Field(default_factory=dict, description="the last reading's values by metric")


class CompletenessHour(BaseModel):
    hour: datetime
    area: int
    devices: int
    expected: int
    received: int
    complete: float | None


class RejectCount(BaseModel):
    reason: str
    count: int
    devices: int
    last: datetime | None
