"""The demo's closing table: per district, hourly AQI in its colour, dominant pollutant, PM2.5,
traffic volume and mean speed, open alerts; then the totals (published, stored, rejected, lost)."""

from __future__ import annotations

from datetime import datetime

import psycopg

RESET = "\x1b[0m"


def coloured(text: str, rgb: list[int] | tuple[int, int, int]) -> str:
    r, g, b = rgb
    fg = "30" if (r * 299 + g * 587 + b * 114) / 1000 > 128 else "97"
    return f"\x1b[48;2;{r};{g};{b}m\x1b[{fg}m{text}{RESET}"


def district_rows(conn: psycopg.Connection, since: datetime) -> list[dict]:
    return conn.execute("""
        SELECT d.code, d.name,
               a.aqi, a.level_vi, a.level_en, a.colour, a.dominant, (a.concentrations->>'pm2_5')::float AS pm25,
               t.vehicles, t.speed,
               (SELECT count(*) FROM alerts x WHERE x.district = d.code AND x.resolved_at IS NULL
                  AND x.stored_at >= %(since)s) AS open_alerts
        FROM areas d
        LEFT JOIN LATERAL (SELECT * FROM aqi WHERE district = d.code AND period = 'hour' AND stored_at >= %(since)s
                           ORDER BY start DESC LIMIT 1) a ON true
        LEFT JOIN LATERAL (
            SELECT sum(sum) FILTER (WHERE metric LIKE 'vehicles_%%') AS vehicles,
                   sum(mean * (extra->>'vehicles')::float) FILTER (WHERE metric = 'avg_speed')
                     / nullif(sum((extra->>'vehicles')::float) FILTER (WHERE metric = 'avg_speed'), 0) AS speed
            FROM aggregates WHERE district = d.code AND window_s = 3600 AND stored_at >= %(since)s) t ON true
        WHERE EXISTS (SELECT FROM devices v WHERE v.district = d.code)
        ORDER BY d.code""", {"since": since}).fetchall()


def render(rows: list[tuple], sim_report: dict, stored: int, lost: int, rejected: dict[str, int],
           colour: bool = True) -> str:
    lines = []
    head = f"{'district':28s} {'hourly AQI':24s} {'dominant':9s} {'PM2.5':>7s} {'vehicles':>9s} {'speed':>6s} {'alerts':>6s}"
    lines.append(head)
    lines.append("─" * len(head))
    for code, name, aqi, level_vi, level_en, rgb, dominant, pm25, vehicles, speed, open_alerts in rows:
        if aqi is None:
            aqi_text = f"{'–':>3s} {'no data':20s}"
        else:
            label = f"{aqi:>3d} {level_vi} / {level_en}"
            aqi_text = coloured(f"{label:24s}", rgb) if colour else f"{label:24s}"
        lines.append(f"{name[:28]:28s} {aqi_text if aqi is not None else f'{aqi_text:24s}'} {dominant or '–':9s} "
                     f"{(f'{pm25:.1f}' if pm25 is not None else '–'):>7s} "
                     f"{(f'{vehicles:,.0f}' if vehicles is not None else '–'):>9s} "
                     f"{(f'{speed:.1f}' if speed is not None else '–'):>6s} {open_alerts:>6d}")
    lines.append("─" * len(head))
    lines.append("PM2.5: µg/m³, latest hourly mean; vehicles: counted over the simulated day; speed: km/h, "
                 "vehicle-weighted")
    rej = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items(), key=lambda kv: -kv[1])) or "none"
    lines.append(f"published {sim_report['published']:,} (acked by the broker {sim_report['acked_by_broker']:,}) · "
                 f"stored {stored:,} · rejected {sum(rejected.values()):,} ({rej}) · lost {lost}")
    return "\n".join(lines)
