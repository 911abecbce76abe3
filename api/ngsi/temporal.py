"""The temporal evolution of entities, from TimescaleDB: a device's measured attributes from its raw
readings (`measuring` only), an area's hourly VN_AQI and pollutant means from the `aqi` hypertable
(one instance per hour, observed at the hour's end). Every value read once, in SQL: time ranges
(`timerel`), the last N instances per attribute (`lastN`, a window function) and aggregation per
period (`aggrMethods`, `aggrPeriodDuration`: `time_bucket` from `timeAt`), bounded in range and in
instances per answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql as psql

from api.ngsi import model
from api.ngsi.exceptions import NgsiError

METHODS = {"totalCount": "count(value)", "distinctCount": "count(DISTINCT value)", "sum": "sum(value)",
           "avg": "avg(value)", "min": "min(value)", "max": "max(value)", "stddev": "stddev_pop(value)",
           "sumsq": "sum(value * value)"}
DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
DEVICE_ATTRS = {a.name: a for _, attrs in model.DEVICE_TYPES.values() for a in attrs}
AREA_ATTRS = {a.name: a for a in model.AREA_ATTRS}


def duration(text: str) -> timedelta:
    """An ISO 8601 duration of days, hours, minutes, seconds (P1D, PT1H, PT15M); months and years
    have no fixed length and are not answered."""
    m = DURATION.fullmatch(text)
    if not m or not any(m.groups()) or text.endswith("T"):
        calendar = re.fullmatch(r"P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T.*)?", text) and ("Y" in text or "M" in text.split("T")[0])
        raise NgsiError(501 if calendar else 400, "OperationNotSupported" if calendar else "BadRequestData",
                        f"aggrPeriodDuration {text[:40]!r}: a duration of days, hours, minutes or seconds (PT1H, P1D)"
                        + ("; months and years have no fixed length" if calendar else ""))
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    if days > 3660 or hours > 87840:
        raise NgsiError(400, "BadRequestData", f"aggrPeriodDuration {text!r} is longer than any range answered")
    period = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if period < timedelta(minutes=1):
        raise NgsiError(400, "BadRequestData", "aggrPeriodDuration: at least one minute")
    return period


@dataclass(frozen=True)
class TemporalQuery:
    start: datetime
    end: datetime
    last_n: int | None
    methods: tuple[str, ...]  # empty: every instance
    period: timedelta | None


def _long(attrs: dict[str, model.Attr], area: bool) -> psql.Composable:
    """(local, attr, at, value) rows of the entities' measured attributes."""
    if area:
        pairs = [psql.SQL("({}, {})").format(psql.Literal(a.name), psql.SQL("aqi::float8") if a.column == "aqi"
                                             else psql.SQL("(concentrations->>{})::float8").format(
                                                 psql.Literal(a.column))) for a in attrs.values()]
        return psql.SQL("""SELECT district::text AS local, v.attr, "end" AS at, v.value FROM aqi
            CROSS JOIN LATERAL (VALUES {pairs}) v(attr, value)
            WHERE period = 'hour' AND district = ANY(%(codes)s) AND "end" >= %(start)s AND "end" < %(end)s
              AND v.value IS NOT NULL AND v.attr = ANY(%(attrs)s)""").format(pairs=psql.SQL(", ").join(pairs))
    pairs = [psql.SQL("({}, r.{})").format(psql.Literal(a.name), psql.Identifier(a.column)) for a in attrs.values()]
    return psql.SQL("""SELECT r.device_id AS local, v.attr, r.ts AS at, v.value FROM readings r
        CROSS JOIN LATERAL (VALUES {pairs}) v(attr, value)
        WHERE r.device_id = ANY(%(devices)s) AND r.status = 'measuring' AND r.ts >= %(start)s AND r.ts < %(end)s
          AND v.value IS NOT NULL AND v.attr = ANY(%(attrs)s)""").format(pairs=psql.SQL(", ").join(pairs))


def _query(long: psql.Composable, tq: TemporalQuery) -> psql.Composable:
    if tq.methods:
        aggs = psql.SQL(", ").join(psql.SQL(METHODS[m] + "::float8 AS {}").format(psql.Identifier(m))
                                   for m in tq.methods)
        inner = psql.SQL("""SELECT local, attr, time_bucket(%(period)s, at, %(origin)s) AS at, {aggs}
            FROM ({long}) x GROUP BY 1, 2, 3""").format(aggs=aggs, long=long)
    else:
        inner = long
    if tq.last_n:
        inner = psql.SQL("""SELECT * FROM (SELECT y.*, row_number() OVER (PARTITION BY local, attr ORDER BY at DESC) AS n
            FROM ({inner}) y) z WHERE n <= %(last_n)s""").format(inner=inner)
    return psql.SQL("SELECT * FROM ({inner}) w ORDER BY local, attr, at LIMIT %(cap)s").format(inner=inner)


async def history(conn: psycopg.AsyncConnection, entities: list[dict], attrs: set[str] | None, tq: TemporalQuery,
                  cap: int, simplified: bool) -> tuple[list[dict], int]:
    """Each entity (normalized, current) with its attributes' instances in the range, and how many
    instances (or aggregated periods) were read."""
    devices, areas = {}, {}
    for e in entities:
        local = model.split_id(e["id"])[1]
        if local.startswith(model.AREA_PREFIX):
            areas[local.removeprefix(model.AREA_PREFIX)] = e
        else:
            devices[local] = e
    rows: list[dict] = []
    params = {"start": tq.start, "end": tq.end, "last_n": tq.last_n, "cap": cap + 1, "period": tq.period,
              "origin": tq.start}
    for chosen, table, area in ((devices, DEVICE_ATTRS, False), (areas, AREA_ATTRS, True)):
        if not chosen:
            continue
        names = [n for n in table if attrs is None or n in attrs]
        key = {"codes": [int(c) for c in chosen]} if area else {"devices": list(chosen)}
        found = await (await conn.execute(_query(_long(table, area), tq), {**params, **key, "attrs": names})).fetchall()
        rows += [{**r, "entity": chosen[r["local"]], "unit": table[r["attr"]].unit_code} for r in found]
        if len(rows) > cap:
            raise NgsiError(403, "TooManyResults", f"more than {cap} instances: a shorter range, lastN, "
                                                   "aggrMethods with aggrPeriodDuration, or fewer entities (limit)")
    out = {e["id"]: {"id": e["id"], "type": e["type"]} for e in entities}
    for r in rows:
        entity = out[r["entity"]["id"]]
        unit = r["unit"]
        at = model.iso(r["at"])
        if tq.methods:
            attr = entity.setdefault(r["attr"], {"type": "Property", "unitCode": unit})
            end = model.iso(r["at"] + tq.period)
            for m in tq.methods:
                attr.setdefault(m, []).append([r[m], at, end])
        elif simplified:
            entity.setdefault(r["attr"], {"type": "Property", "unitCode": unit, "values": []})["values"].append(
                [r["value"], at])
        else:
            entity.setdefault(r["attr"], []).append(model.prop(r["value"], r["at"], unit))
    return list(out.values()), len(rows)
