"""/api/v1/devices: each device's status, last reading, message rate, rejects by reason, clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import sql
from api.access import trace
from api.deps import Reader, Viewer
from api.models import Device
from api.params import AreaQuery, DevicePath, DeviceQuery
from api.problems import Problem, documented
from telemetry.metrics import catalogue

METRICS = frozenset(catalogue())


def _with_latest(row: dict) -> dict:
    """The last reading's metric values as `latest` (its other columns dropped)."""
    reading = row.pop("last_reading") or {}
    row["latest"] = {k: v for k, v in reading.items() if k in METRICS and v is not None}
    return row


router = APIRouter(prefix="/api/v1/devices", tags=["devices"], responses=documented(400, 401, 403, 404))

DEVICE = """
    SELECT d.device_id, d.district AS area, d.kind, d.status, d.interval_s, d.name, d.lat, d.lon, d.zone,
           d.flood_threshold_cm, d.road, d.river, lr.ts AS last_seen, lr.status AS last_status,
           to_jsonb(lr) AS last_reading,
           coalesce(r.last_hour, 0) AS messages_last_hour, coalesce(j.rejects, '{}'::jsonb) AS rejects_24h,
           h.state AS clock, h.skew_s AS clock_skew_s
    FROM devices d
    LEFT JOIN LATERAL (SELECT * FROM readings WHERE device_id = d.device_id AND ts > now() - interval '30 days'
                       ORDER BY ts DESC LIMIT 1) lr ON true
    LEFT JOIN LATERAL (SELECT count(*) AS last_hour FROM readings WHERE device_id = d.device_id
                       AND ts > now() - interval '30 days' AND received_at > now() - interval '1 hour') r ON true
    LEFT JOIN LATERAL (SELECT jsonb_object_agg(reason, n) AS rejects FROM (
                           SELECT reason, count(*) AS n FROM deadletters WHERE device_id = d.device_id
                             AND received_at > now() - interval '24 hours' GROUP BY reason) x) j ON true
    LEFT JOIN LATERAL (SELECT state, skew_s FROM device_health WHERE device_id = d.device_id AND kind = 'clock_skew'
                       ORDER BY at DESC LIMIT 1) h ON true"""


@router.get("", response_model=list[Device], summary="devices, of an area and the areas below it")
async def devices(request: Request, conn: Reader, _: Viewer, area: AreaQuery = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 1000, after: DeviceQuery = None) -> list[dict]:
    """Paged by device id: `after` = the last id of the previous page."""
    within = await sql.subtree(conn, area) if area is not None else None
    rows = [_with_latest(row) for row in await (await conn.execute(
        DEVICE + " WHERE (%(within)s::int[] IS NULL OR d.district = ANY(%(within)s)) "
                 "AND (%(after)s::text IS NULL OR d.device_id > %(after)s) ORDER BY d.device_id LIMIT %(limit)s",
        {"within": within, "after": after, "limit": limit})).fetchall()]
    trace(request, "Device", len(rows))
    return rows


@router.get("/{device_id}", response_model=Device, summary="one device")
async def device(conn: Reader, _: Viewer, device_id: DevicePath) -> dict:
    row = await (await conn.execute(DEVICE + " WHERE d.device_id = %s", (device_id,))).fetchone()
    if row is None:
        raise Problem(404, f"no device {device_id!r} in the registry (citysense devices list)")
    return _with_latest(row)
