"""The operations centre's queries (Python API; `citysense query …` prints them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from telemetry.metrics import catalogue

ENERGY, VECTOR = "noise_laeq", "wind_direction"


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, row_factory=dict_row, connect_timeout=5)


def _metric(name: str) -> sql.Identifier:
    if name not in catalogue():
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(catalogue())}")
    return sql.Identifier(name)


def latest(conn: psycopg.Connection, district: int) -> list[dict]:
    """The latest measured value of each metric in a district (with its time and device)."""
    parts = [
        sql.SQL("(SELECT {name} AS metric, ts, device_id, {col} AS value FROM readings "
                "WHERE district = %(d)s AND status = 'measuring' AND {col} IS NOT NULL ORDER BY ts DESC LIMIT 1)")
        .format(name=sql.Literal(m), col=_metric(m))
        for m in catalogue()
    ]
    return conn.execute(sql.SQL(" UNION ALL ").join(parts), {"d": district}).fetchall()


def series(conn: psycopg.Connection, district: int, metric: str, start: datetime, end: datetime,
           bucket: str = "5 minutes") -> list[dict]:
    """time_bucket series of a metric in a district: count, min, max and the metric's proper mean."""
    col = _metric(metric)
    if metric == ENERGY:
        mean = sql.SQL("10 * log(avg(power(10, {c} / 10)))").format(c=col)
    elif metric == VECTOR:
        mean = sql.SQL("mod(degrees(atan2(avg(sin(radians({c}))), avg(cos(radians({c}))))) + 360, 360)").format(c=col)
    else:
        mean = sql.SQL("avg({c})").format(c=col)
    query = sql.SQL(
        "SELECT time_bucket(%(b)s::interval, ts) AS bucket, count({c}) AS count, min({c}) AS min, max({c}) AS max, "
        "{mean} AS mean FROM readings WHERE district = %(d)s AND status = 'measuring' AND {c} IS NOT NULL "
        "AND ts >= %(s)s AND ts < %(e)s GROUP BY bucket ORDER BY bucket").format(c=col, mean=mean)
    return conn.execute(query, {"b": bucket, "d": district, "s": start, "e": end}).fetchall()


def aqi_ranking(conn: psycopg.Connection) -> list[dict]:
    """Districts ranked by their latest hourly AQI (worst first)."""
    return conn.execute("""
        SELECT a.district, d.name, a.start, a."end", a.aqi, a.level_vi, a.level_en, a.colour, a.dominant
        FROM (SELECT DISTINCT ON (district) * FROM aqi WHERE period = 'hour' ORDER BY district, start DESC) a
        LEFT JOIN areas d ON d.code = a.district
        ORDER BY a.aqi DESC, a.district""").fetchall()


def alerts(conn: psycopg.Connection, only_open: bool = True) -> list[dict]:
    where = "WHERE resolved_at IS NULL" if only_open else ""
    return conn.execute(f"""
        SELECT alert_id, district, rule, subject, state, severity, value, peak, threshold, unit, opened_at,
               updated_at, resolved_at
        FROM alerts {where} ORDER BY severity = 'critical' DESC, opened_at DESC""").fetchall()


def silent(conn: psycopg.Connection, minutes: float, now: datetime | None = None) -> list[dict]:
    """Active devices of the registry with no reading in the last `minutes` (last seen within 30 days)."""
    now = now or datetime.now(timezone.utc)
    return conn.execute("""
        SELECT d.device_id, d.district, d.kind, d.interval_s, r.last_seen
        FROM devices d
        LEFT JOIN LATERAL (SELECT max(ts) AS last_seen FROM readings
                           WHERE device_id = d.device_id AND ts > %(now)s - interval '30 days' AND ts <= %(now)s) r
               ON true
        WHERE d.status = 'active' AND (r.last_seen IS NULL OR r.last_seen < %(now)s - %(m)s * interval '1 minute')
        ORDER BY r.last_seen NULLS FIRST, d.device_id""", {"now": now, "m": minutes}).fetchall()


def rejects(conn: psycopg.Connection, since: timedelta, now: datetime | None = None) -> list[dict]:
    now = now or datetime.now(timezone.utc)
    return conn.execute("""
        SELECT reason, count(*) AS count, count(DISTINCT device_id) AS devices, max(received_at) AS last
        FROM deadletters WHERE received_at > %s GROUP BY reason ORDER BY count DESC, reason""",
                        (now - since,)).fetchall()


def quarantine(conn: psycopg.Connection, since: timedelta, now: datetime | None = None) -> list[dict]:
    """Records the sink could not store (storage/quarantine.py), newest first."""
    now = now or datetime.now(timezone.utc)
    return conn.execute("""
        SELECT quarantined_at, topic, kafka_partition, kafka_offset, target_table, device_id, sqlstate, error
        FROM quarantine WHERE quarantined_at > %s ORDER BY quarantined_at DESC, topic, kafka_partition, kafka_offset""",
                        (now - since,)).fetchall()


def completeness(conn: psycopg.Connection, since: timedelta, now: datetime | None = None) -> dict:
    """Per device and per district: share of the expected readings received (from each device's
    reporting interval) and share flagged calibrating/error."""
    now = now or datetime.now(timezone.utc)
    devices = conn.execute("""
        SELECT d.device_id, d.district, d.kind, d.interval_s,
               floor(extract(epoch FROM %(span)s::interval) / d.interval_s)::int AS expected,
               coalesce(r.received, 0) AS received, coalesce(r.flagged, 0) AS flagged
        FROM devices d
        LEFT JOIN LATERAL (SELECT count(DISTINCT ts) AS received,
                                  count(DISTINCT ts) FILTER (WHERE status <> 'measuring') AS flagged
                           FROM readings WHERE device_id = d.device_id AND ts > %(from)s AND ts <= %(now)s) r ON true
        WHERE d.status = 'active' ORDER BY d.district, d.device_id""",
                           {"span": since, "from": now - since, "now": now}).fetchall()
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
