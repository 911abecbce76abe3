"""/api/v1/areas: the areas (commune, group, city), one area's current state, its AQI history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api import sql
from api.access import trace
from api.deps import Reader, TimeRange, Viewer
from api.models import Aqi, Area, AreaState
from api.params import AreaPath, AreaQuery
from api.problems import Problem, documented
from telemetry.outlines import outline

router = APIRouter(prefix="/api/v1/areas", tags=["areas"], responses=documented(400, 401, 403, 404))

AQI_COLUMNS = """district AS area, period, start, "end", aqi, level_vi, level_en, colour, dominant, nowcast,
                 concentrations, worst_area, areas"""


async def _area(conn, code: int, boundary: bool = False) -> dict:
    row = await (await conn.execute(
        "SELECT code, name, kind, level, parent, lat, lon, population, "
        + ("boundary" if boundary else "NULL::jsonb AS boundary") + " FROM areas WHERE code = %s", (code,))).fetchone()
    if row is None:
        raise Problem(404, f"no area {code} (GET /api/v1/areas lists them)")
    return row


@router.get("", response_model=list[Area], summary="the areas, filtered by level or parent")
async def areas(request: Request, conn: Reader, _: Viewer, level: Literal["commune", "group", "city"] | None = None,
                parent: AreaQuery = None, boundary: bool = False) -> list[dict]:
    rows = await (await conn.execute(
        "SELECT code, name, kind, level, parent, lat, lon, population, "
        + ("boundary" if boundary else "NULL::jsonb AS boundary")
        + " FROM areas WHERE (%(level)s::text IS NULL OR level = %(level)s) "
          "AND (%(parent)s::int IS NULL OR parent = %(parent)s) ORDER BY code",
        {"level": level, "parent": parent})).fetchall()
    trace(request, "Area", len(rows))
    return rows


@router.get("/outlines", summary="outlines of the groups (or the city) drawn around their communes' boundaries",
            responses={200: {"content": {"application/geo+json": {}}}})
async def outlines(request: Request, conn: Reader, _: Viewer,
                   level: Literal["group", "city"] = "group") -> JSONResponse:
    """A GeoJSON FeatureCollection: per area of `level`, a MultiLineString of the edges that no two
    of its communes share (the former districts, drawn for the map). Computed once per version of the
    areas (a digest of codes, parents and boundaries), not on every call."""
    digest = (await (await conn.execute(
        "SELECT md5(string_agg(code || ':' || coalesce(parent::text, '') || ':' || coalesce(boundary::text, ''), ','"
        " ORDER BY code)) AS digest FROM areas")).fetchone())["digest"]
    cache = request.app.state.outlines
    if cache.get(level, (None,))[0] != digest:
        rows = await (await conn.execute(
            "SELECT a.code, a.name, array_agg(c.boundary) AS shapes FROM areas a "
            "JOIN areas c ON c.level = 'commune' AND c.boundary IS NOT NULL "
            " AND (c.parent = a.code OR c.parent IN (SELECT g.code FROM areas g WHERE g.parent = a.code)) "
            "WHERE a.level = %s GROUP BY a.code, a.name ORDER BY a.code", (level,))).fetchall()
        cache[level] = (digest, {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": r["code"], "properties": {"code": r["code"], "name": r["name"]},
             "geometry": outline(r["shapes"])} for r in rows]})
    return JSONResponse(cache[level][1], media_type="application/geo+json")


@router.get("/{code}", response_model=AreaState, summary="an area's current state")
async def state(conn: Reader, _: Viewer, code: AreaPath, boundary: bool = False) -> dict:
    area = await _area(conn, code, boundary)
    aqi = await (await conn.execute(f"SELECT {AQI_COLUMNS} FROM aqi WHERE district = %s AND period = 'hour' "
                                    "ORDER BY start DESC LIMIT 1", (code,))).fetchone()
    latest = await (await conn.execute("""
        SELECT DISTINCT ON (metric) metric, unit, mean, min, max, count, window_start, window_s
        FROM aggregates WHERE district = %s AND window_s = (SELECT min(window_s) FROM aggregates WHERE district = %s)
        ORDER BY metric, window_start DESC""", (code, code))).fetchall()
    within = await sql.subtree(conn, code)
    alerts = await (await conn.execute(f"SELECT {sql.ALERT_COLUMNS} FROM alerts a {sql.ALERT_OPERATOR} "
                                       "WHERE a.district = ANY(%s) AND a.resolved_at IS NULL "
                                       "ORDER BY a.opened_at DESC LIMIT 200", (within,))).fetchall()
    health = await (await conn.execute("""
        SELECT count(*) AS devices,
               count(*) FILTER (WHERE r.last >= now() - interval '1 hour') AS reporting_last_hour,
               count(*) FILTER (WHERE r.last IS NULL OR r.last < now() - interval '10 minutes') AS silent,
               count(*) FILTER (WHERE h.state IN ('fast', 'slow')) AS clock_skewed
        FROM devices d
        LEFT JOIN LATERAL (SELECT max(ts) AS last FROM readings WHERE device_id = d.device_id
                           AND ts > now() - interval '1 day') r ON true
        LEFT JOIN LATERAL (SELECT state FROM device_health WHERE device_id = d.device_id AND kind = 'clock_skew'
                           ORDER BY at DESC LIMIT 1) h ON true
        WHERE d.district = ANY(%s) AND d.status = 'active'""", (within,))).fetchone()
    return {"area": area, "aqi": aqi, "latest": latest, "open_alerts": alerts, "devices": health}


@router.get("/{code}/aqi", response_model=list[Aqi], summary="an area's hourly or daily VN_AQI history")
async def aqi_history(conn: Reader, _: Viewer, code: AreaPath, when: TimeRange,
                      period: Literal["hour", "day"] = "hour",
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict]:
    await _area(conn, code)
    return await (await conn.execute(
        f"SELECT {AQI_COLUMNS} FROM aqi WHERE district = %s AND period = %s AND start >= %s AND start < %s "
        "ORDER BY start LIMIT %s", (code, period, when.start, when.end, limit))).fetchall()

