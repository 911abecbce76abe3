"""/api/v1/completeness and /api/v1/rejects: is the data complete ("đủ") and clean ("sạch")?"""

from __future__ import annotations

from fastapi import APIRouter

from api import sql
from api.deps import Reader, TimeRange, Viewer
from api.models import CompletenessHour, RejectCount
from api.params import AreaQuery
from api.problems import documented
from storage.queries import COMPLETENESS_HOURLY, whole_hours, with_share  # the read model's one definition

router = APIRouter(prefix="/api/v1", tags=["data quality"], responses=documented(400, 401, 403))


@router.get("/completeness", response_model=list[CompletenessHour],
            summary="per commune and whole hour: readings received against those expected")
async def completeness(conn: Reader, _: Viewer, when: TimeRange, area: AreaQuery = None) -> list[dict]:
    within = await sql.subtree(conn, area) if area is not None else None
    first, last = whole_hours(when.start, when.end)
    rows = await (await conn.execute(COMPLETENESS_HOURLY, {"within": within, "first": first, "last": last})).fetchall()
    return with_share(rows)


@router.get("/rejects", response_model=list[RejectCount], summary="dead letters by reason")
async def rejects(conn: Reader, _: Viewer, when: TimeRange, area: AreaQuery = None) -> list[dict]:
    within = await sql.subtree(conn, area) if area is not None else None
    return await (await conn.execute(
        "SELECT reason, count(*) AS count, count(DISTINCT device_id) AS devices, max(received_at) AS last "
        "FROM deadletters WHERE received_at >= %(s)s AND received_at < %(e)s "
        "AND (%(within)s::int[] IS NULL OR district = ANY(%(within)s)) GROUP BY reason ORDER BY count DESC, reason",
        {"s": when.start, "e": when.end, "within": within})).fetchall()
