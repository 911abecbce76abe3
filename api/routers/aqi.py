"""/api/v1/aqi/latest: every area's latest hourly VN_AQI at one level, with the hour before it
(for a trend), in one query: what a map of the city is coloured by and a ranking is sorted by."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api import sql
from api.access import trace
from api.deps import Reader, Viewer
from api.problems import documented

router = APIRouter(prefix="/api/v1/aqi", tags=["areas"], responses=documented(400, 401, 403))


class LatestAqi(BaseModel):
    area: int
    name: str
    level: str
    parent: int | None
    start: datetime | None = Field(description="the hour's start; null when the area has no hourly AQI yet")
    aqi: int | None
    level_vi: str | None
    level_en: str | None
    colour: list[int] | None
    dominant: str | None
    worst_area: int | None = Field(None, description="a group's or the city's: the commune whose AQI it is")
    previous_aqi: int | None = Field(None, description="the AQI of the hour before `start`, when there is one")


@router.get("/latest", response_model=list[LatestAqi], summary="every area's latest hourly VN_AQI at a level")
async def latest(request: Request, conn: Reader, _: Viewer,
                 level: Literal["commune", "group", "city"] = "commune") -> list[dict]:
    rows = await (await conn.execute(sql.LATEST_AQI, {"level": level})).fetchall()
    trace(request, "AirQualityIndex", len(rows))
    return rows
