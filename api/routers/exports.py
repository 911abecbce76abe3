"""/api/v1/exports: readings, alerts and an area's series as CSV or GeoJSON, streamed page by page
with keyset cursors (each page one short query after the last row of the one before: no size
cap, no long transaction, memory bounded by a page)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from psycopg import sql as psql

from api import sql
from api.deps import TimeRange, Viewer
from api.access import trace, trace_when_done
from api.files import as_csv, as_geojson, counted, pages
from api.params import AreaQuery
from api.problems import Problem, documented
from telemetry.metrics import catalogue

router = APIRouter(prefix="/api/v1/exports", tags=["exports"], responses=documented(400, 401, 403, 404),
                   default_response_class=StreamingResponse)
FILES = {200: {"description": "a file, streamed", "content": {"text/csv": {}, "application/geo+json": {}}}}

Format = Literal["csv", "geojson"]
METRICS = list(catalogue())


LICENCE = "citysense data of the operations centre; boundaries: see /api/v1/areas (MIT notice shipped with them)"


def _export(request: Request, fmt: str, name: str, query: psql.Composable, params: dict, keyset: dict[str, str],
            columns: list[str], entity: str) -> StreamingResponse:
    trace(request, entity, 0)
    trace_when_done(request)  # recorded with the rows sent, when the stream ends
    source = counted(pages(request, query, params, keyset), lambda n: trace(request, entity, n))
    if fmt == "csv":
        body, media = as_csv(columns, source), "text/csv; charset=utf-8"
    else:
        body, media = as_geojson(lambda r: (r["lat"], r["lon"]), columns, source, LICENCE), "application/geo+json"
    return StreamingResponse(body, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


async def _within(request: Request, area: int | None) -> list[int] | None:
    if area is None:
        return None
    async with request.app.state.read_pool.connection() as conn:
        if not await sql.area_exists(conn, area):
            raise Problem(404, f"no area {area} (GET /api/v1/areas lists them)")
        return await sql.subtree(conn, area)


@router.get("/readings.{fmt}", summary="raw readings of an area (and below) as CSV or GeoJSON, streamed",
            responses=FILES)
async def readings(request: Request, _: Viewer, fmt: Format, when: TimeRange, area: AreaQuery = None):
    within = await _within(request, area)
    columns = ["ts", "device_id", "area", "kind", "status", *METRICS]
    query = psql.SQL("""
        SELECT r.ts, r.device_id, r.district AS area, r.kind, r.status, {metrics}, d.lat, d.lon
        FROM readings r LEFT JOIN devices d USING (device_id)
        WHERE r.ts >= %(s)s AND r.ts < %(e)s AND (%(within)s::int[] IS NULL OR r.district = ANY(%(within)s))
          AND (%(first)s OR (r.ts, r.device_id, r.status) > (%(a_ts)s, %(a_dev)s, %(a_st)s))
        ORDER BY r.ts, r.device_id, r.status LIMIT %(page)s""").format(
        metrics=psql.SQL(", ").join(psql.SQL("r.{}").format(psql.Identifier(m)) for m in METRICS))

    return _export(request, fmt, "readings", query, {"s": when.start, "e": when.end, "within": within},
                   {"a_ts": "ts", "a_dev": "device_id", "a_st": "status"}, columns, "Reading")


@router.get("/alerts.{fmt}", summary="alerts of an area (and below) as CSV or GeoJSON, streamed",
            responses=FILES)
async def alerts(request: Request, _: Viewer, fmt: Format, when: TimeRange, area: AreaQuery = None):
    within = await _within(request, area)
    columns = ["alert_id", "area", "rule", "subject", "state", "severity", "value", "peak", "threshold", "unit",
               "opened_at", "updated_at", "resolved_at"]
    query = psql.SQL("""
        SELECT a.alert_id, a.district AS area, a.rule, a.subject, a.state, a.severity, a.value, a.peak, a.threshold,
               a.unit, a.opened_at, a.updated_at, a.resolved_at, x.lat, x.lon
        FROM alerts a LEFT JOIN areas x ON x.code = a.district
        WHERE a.opened_at < %(e)s AND coalesce(a.resolved_at, 'infinity') >= %(s)s
          AND (%(within)s::int[] IS NULL OR a.district = ANY(%(within)s))
          AND (%(first)s OR (a.opened_at, a.alert_id) > (%(a_at)s, %(a_id)s))
        ORDER BY a.opened_at, a.alert_id LIMIT %(page)s""")

    return _export(request, fmt, "alerts", query, {"s": when.start, "e": when.end, "within": within},
                   {"a_at": "opened_at", "a_id": "alert_id"}, columns, "Alert")


@router.get("/series.{fmt}", summary="an area's stored windows of one metric as CSV or GeoJSON, streamed",
            responses=FILES)
async def series(request: Request, _: Viewer, fmt: Format, when: TimeRange, area: Annotated[int, Query(ge=0, le=999_999)],
                 metric: str,
                 window_s: Literal[60, 900, 3600] = 3600):
    if metric not in catalogue():
        raise Problem(400, f"unknown metric {metric!r}", errors=[{"name": "metric", "in": "query",
                                                                  "detail": "unknown metric"}])
    await _within(request, area)
    columns = ["area", "metric", "unit", "window_s", "window_start", "window_end", "count", "min", "max", "mean",
               "excluded", "level", "areas"]
    query = psql.SQL("""
        SELECT g.district AS area, g.metric, g.unit, g.window_s, g.window_start, g.window_end, g.count, g.min, g.max,
               g.mean, g.excluded, g.level, g.areas, x.lat, x.lon
        FROM aggregates g LEFT JOIN areas x ON x.code = g.district
        WHERE g.district = %(area)s AND g.metric = %(metric)s AND g.window_s = %(w)s
          AND g.window_start >= %(s)s AND g.window_start < %(e)s
          AND (%(first)s OR g.window_start > %(a_start)s)
        ORDER BY g.window_start LIMIT %(page)s""")

    return _export(request, fmt, f"series-{area}-{metric}", query,
                   {"s": when.start, "e": when.end, "area": area, "metric": metric, "w": window_s},
                   {"a_start": "window_start"}, columns, "Aggregate")
