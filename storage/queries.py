"""The operations centre's queries (Python API; `citysense query …` prints them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, tuple_row

from telemetry.metrics import catalogue

ENERGY, VECTOR = "noise_laeq", "wind_direction"


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, row_factory=dict_row, connect_timeout=5)


def _metric(name: str) -> sql.Identifier:
    if name not in catalogue():
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(catalogue())}")
    return sql.Identifier(name)


def subtree(conn: psycopg.Connection, code: int) -> list[int]:
    """An area and every area below it (a group: itself and its communes; the city: everything), from
    the areas table; a code the table does not know stands for itself (rows stored before seeding)."""
    rows = conn.cursor(row_factory=tuple_row).execute("""
        WITH RECURSIVE t AS (SELECT code FROM areas WHERE code = %(c)s
                             UNION SELECT a.code FROM areas a JOIN t ON a.parent = t.code)
        SELECT code FROM t ORDER BY code""", {"c": code}).fetchall()
    return [r[0] for r in rows] or [code]


def level(conn: psycopg.Connection, code: int) -> str | None:
    row = conn.cursor(row_factory=tuple_row).execute("SELECT level FROM areas WHERE code = %s", (code,)).fetchone()
    return row[0] if row else None


def latest(conn: psycopg.Connection, area: int) -> list[dict]:
    """The latest measured value of each metric in an area and the areas below it (with its time, device
    and the device's area)."""
    parts = [
        sql.SQL("(SELECT {name} AS metric, ts, device_id, district, {col} AS value FROM readings "
                "WHERE district = ANY(%(d)s) AND status = 'measuring' AND {col} IS NOT NULL ORDER BY ts DESC LIMIT 1)")
        .format(name=sql.Literal(m), col=_metric(m))
        for m in catalogue()
    ]
    return conn.execute(sql.SQL(" UNION ALL ").join(parts), {"d": subtree(conn, area)}).fetchall()


def series(conn: psycopg.Connection, area: int, metric: str, start: datetime, end: datetime,
           bucket: str = "5 minutes") -> list[dict]:
    """time_bucket series of a metric over an area and the areas below it: count, min, max and the
    metric's proper mean, computed from the raw readings of all their devices (never a mean of means)."""
    col = _metric(metric)
    if metric == ENERGY:
        mean = sql.SQL("10 * log(avg(power(10, {c} / 10)))").format(c=col)
    elif metric == VECTOR:
        mean = sql.SQL("mod(degrees(atan2(avg(sin(radians({c}))), avg(cos(radians({c}))))) + 360, 360)").format(c=col)
    else:
        mean = sql.SQL("avg({c})").format(c=col)
    query = sql.SQL(
        "SELECT time_bucket(%(b)s::interval, ts) AS bucket, count({c}) AS count, min({c}) AS min, max({c}) AS max, "
        "{mean} AS mean FROM readings WHERE district = ANY(%(d)s) AND status = 'measuring' AND {c} IS NOT NULL "
        "AND ts >= %(s)s AND ts < %(e)s GROUP BY bucket ORDER BY bucket").format(c=col, mean=mean)
    return conn.execute(query, {"b": bucket, "d": subtree(conn, area), "s": start, "e": end}).fetchall()


def _within(conn: psycopg.Connection, area: int | None, column: str = "district") -> tuple[sql.Composable, dict]:
    if area is None:
        return sql.SQL("true"), {}
    return sql.SQL("{} = ANY(%(within)s)").format(sql.Identifier(*column.split("."))), {"within": subtree(conn, area)}


def aqi_ranking(conn: psycopg.Connection, area: int | None = None) -> list[dict]:
    """Areas ranked by their latest hourly AQI (worst first); only those under `area` when given."""
    where, params = _within(conn, area, "a.district")
    return conn.execute(sql.SQL("""
        SELECT a.district, d.name, a.start, a."end", a.aqi, a.level_vi, a.level_en, a.colour, a.dominant
        FROM (SELECT DISTINCT ON (district) * FROM aqi WHERE period = 'hour' ORDER BY district, start DESC) a
        LEFT JOIN areas d ON d.code = a.district
        WHERE {}
        ORDER BY a.aqi DESC, a.district""").format(where), params).fetchall()


def alerts(conn: psycopg.Connection, only_open: bool = True, area: int | None = None) -> list[dict]:
    where, params = _within(conn, area)
    state = sql.SQL("resolved_at IS NULL" if only_open else "true")
    return conn.execute(sql.SQL("""
        SELECT alert_id, district, rule, subject, state, severity, value, peak, threshold, unit, opened_at,
               updated_at, resolved_at
        FROM alerts WHERE {} AND {} ORDER BY severity = 'critical' DESC, opened_at DESC""").format(state, where),
                        params).fetchall()


def silent(conn: psycopg.Connection, minutes: float, now: datetime | None = None,
           area: int | None = None) -> list[dict]:
    """Active devices of the registry with no reading in the last `minutes` (last seen within 30 days)."""
    now = now or datetime.now(timezone.utc)
    where, params = _within(conn, area, "d.district")
    return conn.execute(sql.SQL("""
        SELECT d.device_id, d.district, d.kind, d.interval_s, r.last_seen
        FROM devices d
        LEFT JOIN LATERAL (SELECT max(ts) AS last_seen FROM readings
                           WHERE device_id = d.device_id AND ts > %(now)s - interval '30 days' AND ts <= %(now)s) r
               ON true
        WHERE d.status = 'active' AND (r.last_seen IS NULL OR r.last_seen < %(now)s - %(m)s * interval '1 minute')
          AND {}
        ORDER BY r.last_seen NULLS FIRST, d.device_id""").format(where), {"now": now, "m": minutes, **params}).fetchall()


def rejects(conn: psycopg.Connection, since: timedelta, now: datetime | None = None,
            area: int | None = None) -> list[dict]:
    """Dead letters by reason; under `area`: those whose topic named an area below it (a legacy topic
    names the group; a reject whose topic named no area is in no area)."""
    now = now or datetime.now(timezone.utc)
    where, params = _within(conn, area)
    return conn.execute(sql.SQL("""
        SELECT reason, count(*) AS count, count(DISTINCT device_id) AS devices, max(received_at) AS last
        FROM deadletters WHERE received_at > %(from)s AND {} GROUP BY reason ORDER BY count DESC, reason""")
                        .format(where), {"from": now - since, **params}).fetchall()


def quarantine(conn: psycopg.Connection, since: timedelta, now: datetime | None = None) -> list[dict]:
    """Records the sink could not store (storage/quarantine.py), newest first."""
    now = now or datetime.now(timezone.utc)
    return conn.execute("""
        SELECT quarantined_at, topic, kafka_partition, kafka_offset, target_table, device_id, sqlstate, error
        FROM quarantine WHERE quarantined_at > %s ORDER BY quarantined_at DESC, topic, kafka_partition, kafka_offset""",
                        (now - since,)).fetchall()


# Shared with the API (api/routers/quality.py): the read model's one definition of "expected".
COMPLETENESS_HOURLY = """
    WITH dev AS (SELECT d.device_id, d.district, 3600 / d.interval_s AS per_hour FROM devices d
                 WHERE d.status = 'active' AND (%(within)s::int[] IS NULL OR d.district = ANY(%(within)s))),
         got AS (SELECT r.device_id, date_trunc('hour', r.ts) AS hour, count(DISTINCT r.ts) AS n
                 FROM readings r JOIN dev USING (device_id)
                 WHERE r.ts >= %(first)s AND r.ts < %(last)s + interval '1 hour' GROUP BY 1, 2)
    SELECT h.hour, d.district AS area, count(*) AS devices, sum(d.per_hour)::int AS expected,
           sum(least(coalesce(g.n, 0), d.per_hour))::int AS received
    FROM generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 hour') AS h(hour)
    CROSS JOIN dev d LEFT JOIN got g ON g.device_id = d.device_id AND g.hour = h.hour
    GROUP BY 1, 2 ORDER BY 1, 2"""


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The first and the last whole hour within [start, end)."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    return first, end.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def with_share(rows: list[dict]) -> list[dict]:
    for r in rows:
        r["complete"] = round(r["received"] / r["expected"], 4) if r["expected"] else None
    return rows


def completeness_hourly(conn: psycopg.Connection, since: timedelta, now: datetime | None = None,
                        area: int | None = None) -> list[dict]:
    """Per commune (the devices' areas) and whole hour of the span: readings received against those
    expected from each active device's interval (3600 / interval_s an hour; a device's repeats of one
    instant count once, and no device counts beyond its expected), and the share complete — "đủ"
    of the IOC's "đúng, đủ, sạch, sống"."""
    now = now or datetime.now(timezone.utc)
    first, last = whole_hours(now - since, now)
    within = subtree(conn, area) if area is not None else None
    return with_share(conn.execute(COMPLETENESS_HOURLY, {"within": within, "first": first, "last": last}).fetchall())


def completeness(conn: psycopg.Connection, since: timedelta, now: datetime | None = None,
                 area: int | None = None) -> dict:
    """Per device and per district: share of the expected readings received (from each device's
    reporting interval) and share flagged calibrating/error."""
    now = now or datetime.now(timezone.utc)
    where, params = _within(conn, area, "d.district")
    devices = conn.execute(sql.SQL("""
        SELECT d.device_id, d.district, d.kind, d.interval_s,
               floor(extract(epoch FROM %(span)s::interval) / d.interval_s)::int AS expected,
               coalesce(r.received, 0) AS received, coalesce(r.flagged, 0) AS flagged
        FROM devices d
        LEFT JOIN LATERAL (SELECT count(DISTINCT ts) AS received,
                                  count(DISTINCT ts) FILTER (WHERE status <> 'measuring') AS flagged
                           FROM readings WHERE device_id = d.device_id AND ts > %(from)s AND ts <= %(now)s) r ON true
        WHERE d.status = 'active' AND {} ORDER BY d.district, d.device_id""").format(where),
                           {"span": since, "from": now - since, "now": now, **params}).fetchall()
    for d in devices:
        d["complete"] = round(min(1.0, d["received"] / d["expected"]), 4) if d["expected"] else None
        d["flagged_share"] = round(d["flagged"] / d["received"], 4) if d["received"] else 0.0
    districts: dict[int, dict] = {}
    for d in devices:
        agg = districts.setdefault(d["district"], {"district": d["district"], "expected": 0, "received": 0,
                                                   "flagged": 0, "devices": 0})
        agg["devices"] += 1
        agg["expected"] += d["expected"]
        agg["received"] += min(d["received"], d["expected"])
        agg["flagged"] += d["flagged"]
    for agg in districts.values():
        agg["complete"] = round(agg["received"] / agg["expected"], 4) if agg["expected"] else None
        agg["flagged_share"] = round(agg["flagged"] / agg["received"], 4) if agg["received"] else 0.0
    return {"since": (now - since).isoformat(), "until": now.isoformat(), "devices": devices,
            "districts": sorted(districts.values(), key=lambda a: a["district"])}
