"""An independent oracle for the streams' windows: SQL over the raw readings stored in TimescaleDB.

`sql_windows` buckets the stored readings with `time_bucket` per district, metric and window size
and aggregates them as the platform promises — the energy mean for noise, the vector mean for wind
direction, the vehicle-count-weighted mean for speed, the arithmetic mean otherwise; readings not
`measuring` counted as `excluded` — without any of the streams' code. `closed_by` gives each
district's final watermark (its largest min(event time, reception time) minus the lateness): every
window that ends by then must have been emitted. `compare_both_ways` reports windows missing from
the stream's output, windows the stream made up, and values that differ. For the roll-ups of a
group or the city, `sql_windows(rollup=…)` buckets the raw readings of all their communes together,
`rollup_watermarks` says which of those windows every commune closed, and `fullest` keeps the
fullest of a roll-up's versions, as storage does.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from telemetry.metrics import TRAFFIC_COUNTS, catalogue

WindowKey = tuple[int, str, int, str]  # district, metric, window size, window start (ISO, Z)


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def sql_windows(dsn: str, sizes_s: tuple[int, ...], *, exclude_late: bool | str = True,
                districts: tuple[int, ...] | None = None, rollup: dict[int, int] | None = None) -> dict[WindowKey, dict]:
    """`rollup` {commune: ancestor}: the windows of the ancestors instead, over the raw readings of all
    their communes (the windows a group's or the city's roll-up must equal)."""
    metrics = sql.SQL(", ").join(sql.SQL("({}, r.{})").format(sql.Literal(m), sql.Identifier(m)) for m in catalogue())
    weight = sql.SQL(" + ").join(sql.SQL("coalesce(r.{}, 0)").format(sql.Identifier(m)) for m in TRAFFIC_COUNTS)
    any_count = sql.SQL(" OR ").join(sql.SQL("r.{} IS NOT NULL").format(sql.Identifier(m)) for m in TRAFFIC_COUNTS)
    # exclude_late: True, every reading the worker found late; "once", those delivered only once (their one
    # delivery was late: never counted — a late *redelivery* of a reading counted on time stays counted);
    # False, none
    found_late = ("EXISTS (SELECT 1 FROM late_readings l WHERE l.device_id = r.device_id AND l.ts = r.ts "
                  "AND l.status = r.status)")
    late = sql.SQL({True: f"AND NOT {found_late}", "once": f"AND NOT (r.deliveries = 1 AND {found_late})",
                    False: ""}[exclude_late])
    where = sql.SQL("AND r.district = ANY(%(districts)s)") if districts else sql.SQL("")
    query = sql.SQL("""
        WITH v AS (
            SELECT {area} AS district, r.ts, r.status = 'measuring' AS ok, m.metric, m.value,
                   CASE WHEN r.kind = 'traffic' AND ({any_count}) THEN {weight} END AS w
            FROM readings r CROSS JOIN LATERAL (VALUES {metrics}) AS m(metric, value) {join}
            WHERE m.value IS NOT NULL {where} {late})
        SELECT district, metric, time_bucket(make_interval(secs => %(size)s), ts) AS start,
               count(*) FILTER (WHERE ok) AS n, count(*) FILTER (WHERE NOT ok) AS excluded,
               min(value) FILTER (WHERE ok), max(value) FILTER (WHERE ok), sum(value) FILTER (WHERE ok),
               avg(value) FILTER (WHERE ok) AS mean,
               10 * log(avg(power(10::float8, value / 10)) FILTER (WHERE ok)) AS energy_mean,
               sum(sin(radians(value))) FILTER (WHERE ok) AS s, sum(cos(radians(value))) FILTER (WHERE ok) AS c,
               sum(value * w) FILTER (WHERE ok AND w > 0) AS wsum, sum(w) FILTER (WHERE ok AND w > 0) AS wt
        FROM v GROUP BY 1, 2, 3""").format(
        any_count=any_count, weight=weight, metrics=metrics, where=where, late=late,
        area=sql.SQL("up.ancestor" if rollup else "r.district"),
        join=sql.SQL("JOIN unnest(%(children)s::int[], %(ancestors)s::int[]) AS up(child, ancestor) "
                     "ON up.child = r.district") if rollup else sql.SQL(""))
    up = list((rollup or {}).items())
    out: dict[WindowKey, dict] = {}
    with psycopg.connect(dsn) as conn:
        for size in sizes_s:
            for (district, metric, start, n, excluded, lo, hi, total, mean, energy, s, c, wsum,
                 wt) in conn.execute(query, {
                    "size": size, "districts": list(districts or []), "children": [c for c, _ in up],
                    "ancestors": [a for _, a in up]}):
                if n == 0:
                    mean = None
                elif metric == "noise_laeq":
                    mean = energy
                elif metric == "wind_direction":
                    mean = None if abs(s) < 1e-12 and abs(c) < 1e-12 else math.degrees(math.atan2(s, c)) % 360.0
                elif metric == "avg_speed" and wt:
                    mean = wsum / wt
                out[(district, metric, size, _iso(start))] = {
                    "count": n, "min": lo, "max": hi, "sum": total if n else 0.0, "mean": mean, "excluded": excluded,
                    "end": start + timedelta(seconds=size)}
    return out


def closed_by(dsn: str, lateness_s: float) -> dict[int, datetime]:
    """Each district's final watermark: what the stream must have closed by the end of the data."""
    with psycopg.connect(dsn) as conn:
        return {d: wm - timedelta(seconds=lateness_s) for d, wm in conn.execute(
            "SELECT district, max(least(ts, received_at)) FROM readings GROUP BY 1")}


def rollup_watermarks(watermarks: dict[int, datetime], rollup: dict[int, int]) -> dict[int, datetime]:
    """What an ancestor must have complete: the windows every one of its communes with readings closed."""
    out: dict[int, datetime] = {}
    for child, ancestor in rollup.items():
        if child in watermarks:
            out[ancestor] = min(out.get(ancestor, watermarks[child]), watermarks[child])
    return out


def fullest(emitted: list[dict]) -> list[dict]:
    """The fullest version of each roll-up window (what storage keeps: most readings)."""
    best: dict[WindowKey, dict] = {}
    for msg in emitted:
        key = (msg["district"], msg["metric"], msg["window_s"], msg["window_start"])
        if key not in best or msg["count"] + msg["excluded"] > best[key]["count"] + best[key]["excluded"]:
            best[key] = msg
    return list(best.values())


def compare_both_ways(expected: dict[WindowKey, dict], emitted: list[dict], watermarks: dict[int, datetime],
                      rel_tol: float = 1e-9, closed_only: bool = False) -> list[str]:
    """Differences between the oracle's windows and the emitted aggregates (empty when equal).
    `closed_only`: values compared only for the windows the watermark closed (a roll-up's window
    still open in one of its communes holds part of its readings); made-up windows are caught anyway."""
    seen: dict[WindowKey, dict] = {}
    problems = []
    for msg in emitted:
        key = (msg["district"], msg["metric"], msg["window_s"], msg["window_start"])
        if key in seen and seen[key] != msg:
            problems.append(f"{key}: emitted twice with different values")
        seen[key] = msg
    for key, msg in seen.items():
        want = expected.get(key)
        if want is None:
            problems.append(f"{key}: emitted, but the stored readings hold no such window")
            continue
        if closed_only and (key[0] not in watermarks or want["end"] > watermarks[key[0]]):
            continue
        for field in ("count", "min", "max", "sum", "mean", "excluded"):
            a, b = want.get(field), msg.get(field)
            if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-6)):
                problems.append(f"{key}: {field} from the stored readings {a} != emitted {b}")
    for key, want in expected.items():
        wm = watermarks.get(key[0])
        if key not in seen and wm is not None and want["end"] <= wm:
            problems.append(f"{key}: closed by the watermark ({_iso(wm)}) but never emitted")
    return problems


def rollup_map(areas, level: str) -> dict[int, int]:
    """{commune: its ancestor at `level`} of an area set (telemetry/areas.AreaRegistry)."""
    return {c.code: next(a.code for a in areas.ancestors(c.code) if a.level.value == level)
            for c in areas.communes() if any(a.level.value == level for a in areas.ancestors(c.code))}


def check_rollups(dsn: str, sizes_s: tuple[int, ...], emitted: list[dict], watermarks: dict[int, datetime],
                  areas, level: str, exclude_late: bool | str = True) -> tuple[list[str], int]:
    """(problems, windows compared) of the roll-ups at `level` against SQL over the raw readings."""
    rollup = rollup_map(areas, level)
    expected = sql_windows(dsn, sizes_s, rollup=rollup, exclude_late=exclude_late)
    ups = rollup_watermarks(watermarks, rollup)
    mine = fullest([m for m in emitted if m.get("level") == level])
    problems = compare_both_ways(expected, mine, ups, closed_only=True)
    compared = sum(1 for k, w in expected.items() if k[0] in ups and w["end"] <= ups[k[0]])
    return problems, compared


def load_readings(dsn: str, readings: list[dict], late: list[dict]) -> None:
    """Store readings (the contracts' JSON form) and the ones known to be late, for the oracle: a
    plain COPY of rows, no windowing code."""
    from storage.rows import LATE, READINGS, reading_row
    from psycopg.types.json import Jsonb

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY readings ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, READINGS.columns)))) as copy:
            for r in readings:
                copy.write_row(reading_row(r))
        for r in late:
            cur.execute(sql.SQL("INSERT INTO late_readings ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, LATE.columns)), sql.SQL(", ").join(sql.Placeholder() * 9)),
                (datetime.fromisoformat(r["ts"]), r["device_id"], r["district"], r.get("status", "measuring"),
                 datetime.fromisoformat(r["ts"]), 0.0, Jsonb(r), 0, 0))
