"""The streams' output messages, schema 2, as pydantic models: the contract of the aggregates and
AQI topics (docs/contracts.md; JSON Schemas in docs/schemas/, generated from these models by
`telemetry.schema`). The worker builds its messages with orjson for speed; the unit tests check
every message it produces against these models, and the sink reads the same fields."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from telemetry import OUTPUT_SCHEMA_VERSION

LevelName = Literal["commune", "group", "city"]


class Placed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[2] = Field(OUTPUT_SCHEMA_VERSION, description="schema version of the streams' outputs")
    district: int = Field(description="= area (schema 1's name; removed in schema 3)")
    area: int = Field(description="the area's code: commune (5 digits), group (former district, 3), city")
    level: LevelName | None = Field(description="the area's level; null for a code the area set does not know")
    parent: int | None = Field(description="the area it rolls up to; null at the top")
    areas: int | None = Field(None, ge=1, description="roll-ups only: child areas held by this version")


class AggregateMessage(Placed):
    """One window of one metric of one area (`<prefix>.aggregates.v1`)."""

    metric: str
    unit: str | None
    window_s: int = Field(gt=0)
    window_start: AwareDatetime
    window_end: AwareDatetime
    count: int = Field(ge=0, description="readings counted (status measuring)")
    min: float | None
    max: float | None
    sum: float
    mean: float | None = Field(description="energy mean for noise, vector mean for wind direction, "
                                           "vehicle-weighted for speed, arithmetic otherwise")
    excluded: int = Field(ge=0, description="readings in the window not counted (calibrating, error)")
    arithmetic_mean: float | None = Field(None, description="noise only: the arithmetic mean of the dB values")
    resultant: float | None = Field(None, ge=0, le=1.000001, description="wind direction only: steadiness, 0..1")
    vehicles: float | None = Field(None, ge=0, description="speed only: the vehicles weighting the mean")


class AqiCategory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vi: str
    en: str


class AqiMessage(Placed):
    """An hourly or daily VN_AQI of one area (`<prefix>.aqi.v1`); of a roll-up, its worst commune's."""

    period: Literal["hour", "day"]
    start: AwareDatetime
    end: AwareDatetime
    aqi: int = Field(ge=0)
    aqi_level: AqiCategory
    colour: list[int] = Field(min_length=3, max_length=3)
    dominant: str | None
    sub_indices: dict[str, int]
    nowcast: dict[str, float | None]
    beyond_index: bool
    health: AqiCategory | None
    concentrations: dict[str, float] | None = Field(None, description="hour: the pollutants' hourly means")
    values: dict[str, float | None] | None = Field(None, description="day: the daily values the index is made of")
    worst_area: int | None = Field(None, description="roll-ups: the commune whose AQI this is")
