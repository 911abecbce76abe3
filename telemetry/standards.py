"""National standards as data (data/standards.json): QCVN 05:2023 air limits, QCVN 26:2010 noise limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache

from telemetry.resources import data_json

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
DAY_START_HOUR, NIGHT_START_HOUR = 6, 21


@cache
def _standards() -> dict:
    return data_json("standards.json")


def tables(on: datetime | None = None) -> dict:
    """The air limits in force `on` (default: now) and the noise limits, as tables (µg/m³, dB(A))."""
    data = _standards()
    air = {p: {avg: air_limit(p, avg, on) for avg in limits if avg != "24h_from_2026"}
           for p, limits in data["air_limits"].items()}
    return {"source": data["_source"], "air_limits": air,
            "noise_limits": {k: dict(v) for k, v in data["noise_limits"].items() if not k.startswith("_")},
            "noise_day_hours": [DAY_START_HOUR, NIGHT_START_HOUR]}


def air_limit(pollutant: str, averaging: str, on: datetime | None = None) -> float | None:
    """Limit in µg/m³ for `pollutant` (pm2_5, pm10, co, no2, so2, o3) over `averaging` (1h, 8h, 24h,
    annual); None when QCVN 05:2023 sets none. PM2.5 24 h is 45 from 2026-01-01 (50 before)."""
    limits = _standards()["air_limits"].get(pollutant, {})
    if pollutant == "pm2_5" and averaging == "24h" and (on is None or on.year >= 2026):
        return float(limits["24h_from_2026"])
    value = limits.get(averaging)
    return float(value) if value is not None else None


def is_daytime(at: datetime) -> bool:
    """06:00–21:00 local time (UTC+7) is 'day' for the noise limits."""
    hour = at.astimezone(VIETNAM_TZ).hour
    return DAY_START_HOUR <= hour < NIGHT_START_HOUR


def noise_limit(zone: str, at: datetime) -> float:
    """LAeq limit in dB(A) for a zone ('special' or 'normal') at a given time."""
    zone_limits = _standards()["noise_limits"][zone]
    return float(zone_limits["day" if is_daytime(at) else "night"])
