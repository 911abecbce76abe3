"""The API's SQL, parameterised (psycopg.sql for identifiers), shared by the routers."""

from __future__ import annotations

import psycopg

SUBTREE = """WITH RECURSIVE t AS (SELECT code FROM areas WHERE code = %(area)s
                                 UNION SELECT a.code FROM areas a JOIN t ON a.parent = t.code)
             SELECT coalesce(array_agg(code), ARRAY[%(area)s]::int[]) FROM t"""

ALERT_COLUMNS = """a.alert_id, a.district AS area, a.rule, a.subject, a.state, a.severity, a.value, a.peak,
    a.threshold, a.unit, a.opened_at, a.updated_at, a.resolved_at,
    CASE WHEN op.closed THEN 'closed' WHEN op.acked THEN 'acknowledged' ELSE 'new' END AS operator_state,
    op.assignee"""
ALERT_OPERATOR = """LEFT JOIN LATERAL (
    SELECT bool_or(x.action = 'close') AS closed, bool_or(x.action = 'acknowledge') AS acked,
           (SELECT y.assignee FROM alert_actions y WHERE y.alert_id = a.alert_id AND y.action = 'assign'
             ORDER BY y.at DESC, y.action_id DESC LIMIT 1) AS assignee
    FROM alert_actions x WHERE x.alert_id = a.alert_id) op ON true"""

# every area of a level with its latest hourly AQI (NULLs when none yet) and the hour before's AQI
LATEST_AQI = """
    SELECT a.code AS area, a.name, a.level, a.parent, a.lat, a.lon, cur.start, cur."end", cur.aqi, cur.level_vi,
           cur.level_en, cur.colour, cur.dominant, cur.worst_area, prev.aqi AS previous_aqi
    FROM areas a
    LEFT JOIN LATERAL (SELECT start, "end", aqi, level_vi, level_en, colour, dominant, worst_area FROM aqi
                       WHERE district = a.code AND period = 'hour' ORDER BY start DESC LIMIT 1) cur ON true
    LEFT JOIN LATERAL (SELECT aqi FROM aqi WHERE district = a.code AND period = 'hour'
                       AND start = cur.start - interval '1 hour') prev ON true
    WHERE a.level = %(level)s ORDER BY a.code"""


async def subtree(conn: psycopg.AsyncConnection, area: int) -> list[int]:
    row = await (await conn.execute(SUBTREE, {"area": area})).fetchone()
    return list(row["coalesce"])


async def area_exists(conn: psycopg.AsyncConnection, area: int) -> bool:
    return await (await conn.execute("SELECT 1 FROM areas WHERE code = %s", (area,))).fetchone() is not None
