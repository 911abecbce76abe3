"""Hourly and daily VN_AQI per district from the hourly pollutant means (pure logic).

The last 36 hourly means per pollutant live in the district's state (streams/state_store.py), so NowCast's
12 hours and a day's 24 survive a restart. Daily AQI is computed when the watermark passes the end
of a local day (24:00, UTC+7), whichever of its hours had data (streams/processor.py). A 24 h mean needs 18 of 24 hourly means (75 %), an 8 h mean 6 of 8.
"""

from __future__ import annotations

from statistics import fmean

from telemetry.aqi import daily_aqi, hourly_aqi
from telemetry.metrics import POLLUTANTS

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
LOCAL_OFFSET_MS = 7 * HOUR_MS
KEEP_HOURS = 36
MIN_HOURS_24H, MIN_HOURS_8H = 18, 6


def record_hour(state: dict, hour_start_ms: int, means: dict[str, float]) -> None:
    hours = state.setdefault("aqi_hours", {})
    hours.setdefault(str(hour_start_ms), {}).update({k: v for k, v in means.items() if k in POLLUTANTS})
    latest = max(int(h) for h in hours)
    for h in [h for h in hours if int(h) <= latest - KEEP_HOURS * HOUR_MS]:
        del hours[h]


def _series(state: dict, pollutant: str, hour_start_ms: int, n: int) -> list[float | None]:
    """Hourly means of `pollutant` for the n hours ending with `hour_start_ms`, most recent first."""
    hours = state.get("aqi_hours", {})
    return [hours.get(str(hour_start_ms - i * HOUR_MS), {}).get(pollutant) for i in range(n)]


def hourly(state: dict, hour_start_ms: int) -> dict | None:
    means = state.get("aqi_hours", {}).get(str(hour_start_ms), {})
    pm = {p: _series(state, p, hour_start_ms, 12) for p in ("pm2_5", "pm10")}
    result = hourly_aqi(pm, {g: means.get(g) for g in ("o3", "co", "so2", "no2")})
    if result.aqi is None:
        return None
    return {**result.as_dict(), "concentrations": means}


def rolling_24h_mean(state: dict, pollutant: str, hour_start_ms: int) -> float | None:
    values = [v for v in _series(state, pollutant, hour_start_ms, 24) if v is not None]
    return fmean(values) if len(values) >= MIN_HOURS_24H else None


def closes_local_day(hour_start_ms: int) -> bool:
    return (hour_start_ms + LOCAL_OFFSET_MS) % DAY_MS == 23 * HOUR_MS


def local_day_end(hour_start_ms: int) -> int:
    """End (24:00 local, UTC+7) of the local day that the hour starting at `hour_start_ms` belongs to."""
    local = hour_start_ms + LOCAL_OFFSET_MS
    return local - local % DAY_MS + DAY_MS - LOCAL_OFFSET_MS


def daily(state: dict, last_hour_start_ms: int) -> dict | None:
    """Daily AQI of the local day whose last hour starts at `last_hour_start_ms`."""
    day = {p: list(reversed(_series(state, p, last_hour_start_ms, 24))) for p in POLLUTANTS}  # oldest first
    values: dict[str, float | None] = {}
    for pm in ("pm2_5", "pm10"):
        present = [v for v in day[pm] if v is not None]
        values[pm] = fmean(present) if len(present) >= MIN_HOURS_24H else None
    for gas in ("co", "so2", "no2", "o3"):
        present = [v for v in day[gas] if v is not None]
        values[f"{gas}_1h_max"] = max(present) if present else None
    eight = []
    o3_hours = list(reversed(_series(state, "o3", last_hour_start_ms, 31)))  # 7 hours before the day, then the day
    for end in range(7, 31):
        window = [v for v in o3_hours[end - 7:end + 1] if v is not None]
        if len(window) >= MIN_HOURS_8H:
            eight.append(fmean(window))
    values["o3_8h_max"] = max(eight) if eight else None
    result = daily_aqi(values)
    if result.aqi is None:
        return None
    return {**result.as_dict(), "values": values}
