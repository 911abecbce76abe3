"""/open/v1: open data, no key — the latest hourly VN_AQI of every commune (or group, or the city),
as JSON and as GeoJSON, with the licence it is published under and how it is computed (as Hà Nội
and Huế publish theirs). Rate-limited per client address (api/ratelimit.py): a 429 says when to
come back. Calls are in the access log like every other (without a consumer)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api import sql
from api.access import trace
from api.deps import Reader
from api.problems import Problem, documented
from telemetry.areas import boundaries_notice

router = APIRouter(prefix="/open/v1", tags=["open data"], responses=documented(400, 429))

METHOD = ("VN_AQI per Decision 1459/QĐ-TCMT: hourly index, NowCast of the last 12 hours for PM2.5 and PM10; "
          "a group's or the city's is its worst commune's")
Level = Literal["commune", "group", "city"]


async def limited(request: Request) -> None:
    state = request.app.state
    wait = state.open_limiter.take(request.client.host if request.client else "unknown")
    if wait:
        settings = state.settings
        after = state.open_limiter.retry_after(wait)
        raise Problem(429, f"open data allows {settings.open_rate_per_min:g} calls a minute from one address "
                           f"(bursts of {settings.open_burst}); try again in {after} s",
                      headers={"Retry-After": after})


def _entry(row: dict) -> dict:
    return {"code": row["area"], "name": row["name"], "level": row["level"], "parent": row["parent"],
            "aqi": row["aqi"], "level_vi": row["level_vi"], "level_en": row["level_en"], "colour": row["colour"],
            "dominant": row["dominant"], "worst_area": row["worst_area"],
            "hour_start": row["start"].isoformat() if row["start"] else None,
            "hour_end": row["end"].isoformat() if row["end"] else None}


def _about(request: Request) -> dict:
    settings = request.app.state.settings
    return {"licence": settings.open_licence, "attribution": settings.open_attribution, "method": METHOD,
            "generated_at": datetime.now(timezone.utc).isoformat()}


@router.get("/aqi", summary="the latest hourly VN_AQI of every area of a level (JSON, no key)",
            dependencies=[Depends(limited)])
async def aqi(request: Request, conn: Reader, level: Level = "commune") -> dict:
    rows = await (await conn.execute(sql.LATEST_AQI, {"level": level})).fetchall()
    trace(request, "AirQualityIndex", len(rows))
    return {**_about(request), "areas": [_entry(r) for r in rows]}


@router.get("/aqi.geojson", summary="the same as GeoJSON: a feature per area at its point, or its boundary",
            dependencies=[Depends(limited)], responses={200: {"content": {"application/geo+json": {}}}})
async def aqi_geojson(request: Request, conn: Reader, level: Level = "commune", boundary: bool = False) -> JSONResponse:
    rows = await (await conn.execute(sql.LATEST_AQI, {"level": level})).fetchall()
    shapes = {}
    if boundary:
        shapes = {r["code"]: r["boundary"] for r in await (await conn.execute(
            "SELECT code, boundary FROM areas WHERE level = %s AND boundary IS NOT NULL", (level,))).fetchall()}
    features = []
    for r in rows:
        geometry = shapes.get(r["area"]) or ({"type": "Point", "coordinates": [r["lon"], r["lat"]]}
                                             if r["lat"] is not None else None)
        features.append({"type": "Feature", "id": r["area"], "geometry": geometry, "properties": _entry(r)})
    trace(request, "AirQualityIndex", len(features))
    body = {"type": "FeatureCollection", **_about(request), "features": features}
    if boundary:
        body["boundaries_licence"] = boundaries_notice()
    return JSONResponse(body, media_type="application/geo+json")
