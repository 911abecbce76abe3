"""Time series with server-side buckets: an area's from its stored windows (the roll-ups for a group
or the city; a day merged from the hourly windows as their partials allow: energy for noise,
vectors for wind, vehicles for speed — never a mean of means), a device's from its raw readings
(over a bounded range)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Literal

from fastapi import APIRouter, Request
from psycopg import sql

from api.deps import Reader, TimeRange, Viewer
from api.models import Series
from api.params import AreaPath, DevicePath
from api.problems import Problem, documented
from telemetry.metrics import TRAFFIC_COUNTS, catalogue

router = APIRouter(prefix="/api/v1", tags=["series"], responses=documented(400, 401, 403, 404))

Bucket = Literal["1m", "15m", "1h", "1d"]
BUCKET_S = {"1m": 60, "15m": 900, "1h": 3600, "1d": 86400}
LOCAL = timezone(timedelta(hours=7))


def _check(request: Request, metric: str, bucket: str, seconds: float) -> None:
    if metric not in catalogue():
        raise Problem(400, f"unknown metric {metric!r} (GET /api/v1/metrics? see docs/contracts.md)",
                      errors=[{"name": "metric", "in": "query", "detail": "unknown metric"}])
    limit = request.app.state.settings.max_points
    if seconds / BUCKET_S[bucket] > limit:
        raise Problem(400, f"{seconds / BUCKET_S[bucket]:.0f} buckets of {bucket} asked; at most {limit}: "
                           "a larger bucket or a shorter range",
                      errors=[{"name": "bucket", "in": "query", "detail": f"more than {limit} points"}])


def merge_day(metric: str, rows: list[dict]) -> dict:
    """One day from its hourly windows, exactly (the mean of each kind recombined from its window)."""
    n = sum(r["count"] for r in rows)
    out = {"start": rows[0]["day"], "count": n, "min": min((r["min"] for r in rows if r["min"] is not None),
                                                           default=None),
           "max": max((r["max"] for r in rows if r["max"] is not None), default=None), "mean": None}
    live = [r for r in rows if r["count"] and r["mean"] is not None]
    if not live:
        return out
    if metric == "noise_laeq":
        out["mean"] = 10 * math.log10(sum(r["count"] * 10 ** (r["mean"] / 10) for r in live) / sum(r["count"] for r in live))
    elif metric == "wind_direction":
        s = sum(r["count"] * (r["extra"] or {}).get("resultant", 0) * math.sin(math.radians(r["mean"])) for r in live)
        c = sum(r["count"] * (r["extra"] or {}).get("resultant", 0) * math.cos(math.radians(r["mean"])) for r in live)
        out["mean"] = None if abs(s) < 1e-12 and abs(c) < 1e-12 else math.degrees(math.atan2(s, c)) % 360.0
    elif metric == "avg_speed" and sum((r["extra"] or {}).get("vehicles", 0) for r in live) > 0:
        out["mean"] = (sum(r["mean"] * (r["extra"] or {}).get("vehicles", 0) for r in live)
                       / sum((r["extra"] or {}).get("vehicles", 0) for r in live))
    else:
        out["mean"] = sum(r["sum"] for r in live) / sum(r["count"] for r in live)
    return out


@router.get("/areas/{code}/series", response_model=Series, summary="an area's series of one metric")
async def area_series(request: Request, conn: Reader, _: Viewer, code: AreaPath, metric: str, when: TimeRange,
                      bucket: Bucket = "1h") -> dict:
    _check(request, metric, bucket, (when.end - when.start).total_seconds())
    size = 3600 if bucket == "1d" else BUCKET_S[bucket]
    rows = await (await conn.execute(
        "SELECT window_start AS start, count, min, max, sum, mean, extra, "
        "date_trunc('day', window_start AT TIME ZONE 'Asia/Ho_Chi_Minh') AS local_day FROM aggregates "
        "WHERE district = %s AND metric = %s AND window_s = %s AND window_start >= %s AND window_start < %s "
        "ORDER BY window_start", (code, metric, size, when.start, when.end))).fetchall()
    if bucket == "1d":
        days: dict[datetime, list[dict]] = {}
        for r in rows:
            r["day"] = r["local_day"].replace(tzinfo=LOCAL)
            days.setdefault(r["day"], []).append(r)
        points = [merge_day(metric, day) for day in days.values()]
    else:
        points = rows
    return {"area": code, "metric": metric, "bucket": bucket, "source": "aggregates", "points": points}


@router.get("/devices/{device_id}/series", response_model=Series, summary="a device's series of one metric")
async def device_series(request: Request, conn: Reader, _: Viewer, device_id: DevicePath, metric: str,
                        when: TimeRange,
                        bucket: Bucket = "1m") -> dict:
    _check(request, metric, bucket, (when.end - when.start).total_seconds())
    limit = request.app.state.settings.max_raw_range_days
    if when.end - when.start > timedelta(days=limit):
        raise Problem(400, f"a device's raw series spans at most {limit} days (an area's hourly series is longer)",
                      errors=[{"name": "from", "in": "query", "detail": f"range over {limit} days"}])
    column = sql.Identifier(metric)
    if metric == "noise_laeq":  # the same means as the windows: energy, vector, vehicle-weighted
        mean = sql.SQL("10 * log(avg(power(10::float8, {} / 10)))").format(column)
    elif metric == "wind_direction":
        mean = sql.SQL("(degrees(atan2(sum(sin(radians({c}))), sum(cos(radians({c}))))) + 360)::numeric % 360"
                       ).format(c=column)
    elif metric == "avg_speed":
        vehicles = sql.SQL(" + ").join(sql.SQL("coalesce({}, 0)").format(sql.Identifier(m)) for m in TRAFFIC_COUNTS)
        mean = sql.SQL("coalesce(sum({c} * ({v})) / nullif(sum({v}), 0), avg({c}))").format(c=column, v=vehicles)
    else:
        mean = sql.SQL("avg({})").format(column)
    rows = await (await conn.execute(sql.SQL(
        "SELECT time_bucket(make_interval(secs => %s), ts) AS start, count({c}) AS count, min({c}) AS min, "
        "max({c}) AS max, {mean} AS mean FROM readings WHERE device_id = %s AND status = 'measuring' "
        "AND {c} IS NOT NULL AND ts >= %s AND ts < %s GROUP BY 1 ORDER BY 1").format(c=column, mean=mean),
        (BUCKET_S[bucket], device_id, when.start, when.end))).fetchall()
    return {"device_id": device_id, "metric": metric, "bucket": bucket, "source": "readings", "points": rows}
