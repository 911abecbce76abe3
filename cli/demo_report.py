"""The demo's closing tables, for the last hour every commune's AQI covers: one row per former
district (group) — the hourly AQI of its worst commune and which, PM2.5, traffic volume and mean
speed, open alerts; the city's line; the ten worst communes; then the totals (published, stored,
rejected, lost)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

RESET = "\x1b[0m"
LOCAL = timezone(timedelta(hours=7))

_HOUR_AQI = "LEFT JOIN aqi a ON a.district = {code} AND a.period = 'hour' AND a.start = %(hour)s"


def report_hour(conn: psycopg.Connection, since: datetime) -> tuple[datetime | None, datetime | None]:
    """(the latest hour with as many communes' AQI as any hour had, the latest such hour that the
    roll-ups have complete: the city's AQI holds every group that had a commune's AQI in it)."""
    rows = conn.execute("""
        WITH h AS (SELECT a.start, count(*) AS n, count(DISTINCT c.parent) AS groups
                   FROM aqi a JOIN areas c ON c.code = a.district
                   WHERE a.level = 'commune' AND a.period = 'hour' AND a.stored_at >= %(since)s GROUP BY a.start),
             full_hours AS (SELECT start, groups FROM h WHERE n = (SELECT max(n) FROM h))
        SELECT f.start, coalesce(x.areas, 0) = f.groups AS complete
        FROM full_hours f LEFT JOIN aqi x ON x.start = f.start AND x.period = 'hour' AND x.level = 'city'
        ORDER BY f.start DESC""", {"since": since}).fetchall()
    latest = rows[0][0] if rows else None
    return latest, next((start for start, complete in rows if complete), None)


def group_rows(conn: psycopg.Connection, since: datetime, hour: datetime | None) -> list[tuple]:
    """Groups with devices below them, then the city: (code, name, level, aqi, level_vi, level_en, colour,
    dominant, worst commune's name, PM2.5 of the hour, vehicles of the day, mean speed, open alerts)."""
    return [tuple(r) for r in conn.execute(f"""
        SELECT g.code, g.name, g.level, a.aqi, a.level_vi, a.level_en, a.colour, a.dominant, w.name,
               (SELECT mean FROM aggregates WHERE district = g.code AND metric = 'pm2_5' AND window_s = 3600
                  AND window_start = %(hour)s) AS pm25,
               t.vehicles, t.speed,
               (SELECT count(*) FROM alerts x JOIN areas c ON c.code = x.district
                 WHERE (c.parent = g.code OR g.level = 'city') AND x.resolved_at IS NULL
                   AND x.stored_at >= %(since)s) AS open_alerts
        FROM areas g
        {_HOUR_AQI.format(code="g.code")}
        LEFT JOIN areas w ON w.code = a.worst_area
        LEFT JOIN LATERAL (
            SELECT sum(sum) FILTER (WHERE metric LIKE 'vehicles_%%') AS vehicles,
                   sum(mean * (extra->>'vehicles')::float) FILTER (WHERE metric = 'avg_speed')
                     / nullif(sum((extra->>'vehicles')::float) FILTER (WHERE metric = 'avg_speed'), 0) AS speed
            FROM aggregates WHERE district = g.code AND window_s = 3600 AND window_start = %(hour)s) t ON true
        WHERE g.level IN ('group', 'city')
          AND EXISTS (SELECT FROM devices v JOIN areas c ON c.code = v.district
                      WHERE c.parent = g.code OR g.level = 'city')
        ORDER BY g.level = 'city', g.code""", {"since": since, "hour": hour})]


def worst_communes(conn: psycopg.Connection, hour: datetime | None, n: int = 10) -> list[tuple]:
    """(code, name, group name, aqi, level_vi, level_en, colour, dominant, PM2.5) of the n communes
    with the highest AQI in that hour."""
    return [tuple(r) for r in conn.execute(f"""
        SELECT c.code, c.name, g.name, a.aqi, a.level_vi, a.level_en, a.colour, a.dominant,
               (a.concentrations->>'pm2_5')::float
        FROM areas c LEFT JOIN areas g ON g.code = c.parent
        {_HOUR_AQI.format(code="c.code")}
        WHERE c.level = 'commune' AND a.aqi IS NOT NULL
        ORDER BY a.aqi DESC, c.code LIMIT %(n)s""", {"hour": hour, "n": n})]


def coloured(text: str, rgb: list[int] | tuple[int, int, int]) -> str:
    """The text on the AQI's colour (24-bit ANSI), in black or white letters, whichever reads."""
    r, g, b = rgb
    fg = "30" if (r * 299 + g * 587 + b * 114) / 1000 > 128 else "97"
    return f"\x1b[48;2;{r};{g};{b}m\x1b[{fg}m{text}{RESET}"


def _aqi(aqi, level_vi, level_en, rgb, colour: bool, width: int = 24) -> str:
    if aqi is None:
        return f"{'–':>3s} {'no data':{width - 4}s}"
    label = f"{aqi:>3d} {level_vi} / {level_en}"
    return coloured(f"{label:{width}s}", rgb) if colour else f"{label:{width}s}"


def _num(value, fmt: str) -> str:
    return format(value, fmt) if value is not None else "–"


def render(hour: datetime | None, groups: list[tuple], worst: list[tuple], sim_report: dict, stored: int,
           lost: int, rejected: dict[str, int], colour: bool = True) -> str:
    local = hour.astimezone(LOCAL) if hour else None
    lines = [f"the hour {local:%Y-%m-%d %H:00}–{(local + timedelta(hours=1)):%H:00} (UTC+7)" if local
             else "no hour with an AQI", ""]
    head = (f"{'former district (group)':28s} {'hourly AQI (worst commune)':24s} {'worst commune':22s} "
            f"{'dominant':8s} {'PM2.5':>6s} {'vehicles':>9s} {'speed':>5s} {'alerts':>6s}")
    lines += [head, "─" * len(head)]
    for code, name, level, aqi, lvi, len_, rgb, dominant, worst_name, pm25, vehicles, speed, alerts in groups:
        if level == "city":
            lines.append("─" * len(head))
        lines.append(f"{name[:28]:28s} {_aqi(aqi, lvi, len_, rgb, colour)} {(worst_name or '–')[:22]:22s} "
                     f"{dominant or '–':8s} {_num(pm25, '.1f'):>6s} {_num(vehicles, ',.0f'):>9s} "
                     f"{_num(speed, '.1f'):>5s} {alerts:>6d}")
    lines.append("─" * len(head))
    lines.append("AQI: the hour's VN_AQI of the group's worst commune; PM2.5: µg/m³, the group's hourly mean over all "
                 "its stations; vehicles: counted in that hour; speed: km/h, vehicle-weighted")
    lines += ["", "the ten worst communes in that hour:"]
    for code, name, group, aqi, lvi, len_, rgb, dominant, pm25 in worst:
        lines.append(f"  {code:>5d} {name[:26]:26s} {(group or '')[:28]:28s} {_aqi(aqi, lvi, len_, rgb, colour)} "
                     f"{dominant or '–':8s} PM2.5 {_num(pm25, '.1f')}")
    rej = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items(), key=lambda kv: -kv[1])) or "none"
    lines += ["", f"published {sim_report['published']:,} (acked by the broker {sim_report['acked_by_broker']:,}) · "
                  f"stored {stored:,} · rejected {sum(rejected.values()):,} ({rej}) · lost {lost}"]
    return "\n".join(lines)
