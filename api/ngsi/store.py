"""The NGSI-LD entities' rows, read from TimescaleDB: types, ids and `idPattern` decided in SQL (the
pattern as a parameter, PostgreSQL's regular expressions, whose engine does not backtrack
exponentially, under a statement timeout), the rest of a query (q, geo) over the rows returned —
the city's entities number in the hundreds to thousands."""

from __future__ import annotations

import psycopg
from psycopg import errors
from psycopg import sql as psql

from api.ngsi import model
from api.ngsi.exceptions import NgsiError
from telemetry.metrics import catalogue

KINDS = psql.SQL(", ").join(psql.SQL("({}, {})").format(psql.Literal(kind), psql.Literal(t))
                            for kind, (t, _) in model.DEVICE_TYPES.items())
DEVICES = psql.SQL("""
    SELECT d.device_id, d.kind, d.district, d.name, d.lat, d.lon, d.interval_s, d.flood_threshold_cm, d.zone,
           d.road, d.river, a.name AS area_name, k.type, lr.*
    FROM devices d
    JOIN (VALUES {kinds}) k(kind, type) ON k.kind = d.kind
    JOIN areas a ON a.code = d.district
    JOIN LATERAL (SELECT ts, {metrics} FROM readings WHERE device_id = d.device_id AND status = 'measuring'
                  AND ts > now() - interval '30 days' ORDER BY ts DESC LIMIT 1) lr ON true
    WHERE d.status <> 'revoked' AND k.type = ANY(%(types)s)
      AND (%(ids)s::text[] IS NULL OR 'urn:ngsi-ld:' || k.type || ':' || d.device_id = ANY(%(ids)s))
      AND (%(pattern)s::text IS NULL OR 'urn:ngsi-ld:' || k.type || ':' || d.device_id ~ %(pattern)s)
    ORDER BY d.device_id""").format(kinds=KINDS, metrics=psql.SQL(", ").join(map(psql.Identifier, catalogue())))
AREAS = """
    SELECT a.code, a.name, a.level, a.lat, a.lon, cur.*
    FROM areas a
    JOIN LATERAL (SELECT start, "end", aqi, level_en, dominant, concentrations FROM aqi
                  WHERE district = a.code AND period = 'hour' ORDER BY start DESC LIMIT 1) cur ON true
    WHERE (%(ids)s::text[] IS NULL OR 'urn:ngsi-ld:AirQualityObserved:area-' || a.code = ANY(%(ids)s))
      AND (%(pattern)s::text IS NULL OR 'urn:ngsi-ld:AirQualityObserved:area-' || a.code ~ %(pattern)s)
    ORDER BY a.code"""


async def guarded(conn: psycopg.AsyncConnection, query, params: dict, timeout_ms: int) -> list[dict]:
    """Rows of a query whose parameters a client chose: a bad or too costly pattern is a 400."""
    try:
        async with conn.transaction():
            await conn.execute(psql.SQL("SET LOCAL statement_timeout = {}").format(psql.Literal(timeout_ms)))
            return await (await conn.execute(query, params)).fetchall()
    except errors.InvalidRegularExpression as exc:
        raise NgsiError(400, "BadRequestData", f"idPattern is not a valid regular expression: {exc.diag.message_primary}")
    except (errors.QueryCanceled, errors.ProgramLimitExceeded) as exc:
        raise NgsiError(400, "BadRequestData", f"the query is too costly ({exc.diag.message_primary}): "
                                               "a simpler idPattern or fewer ids")


async def entities(conn: psycopg.AsyncConnection, types: list[str], ids: list[str] | None, pattern: str | None,
                   timeout_ms: int = 5000) -> list[dict]:
    """Every entity of these types (and ids, and pattern), normalized, in id order."""
    params = {"types": types, "ids": ids, "pattern": pattern}
    out = []
    if set(types) & set(model.TYPES):
        out += [model.device_entity(r) for r in await guarded(conn, DEVICES, params, timeout_ms)]
    if model.AREA_TYPE in types:
        out += [model.area_entity(r) for r in await guarded(conn, AREAS, params, timeout_ms)]
    out.sort(key=lambda e: e["id"])
    return out
