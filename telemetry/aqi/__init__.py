"""Vietnam's air quality index VN_AQI, per Decision 1459/QĐ-TCMT (12 Nov 2019)."""

from telemetry.aqi.calculator import AqiResult, daily_aqi, hourly_aqi, nowcast, sub_index
from telemetry.aqi.levels import Level, level_for

__all__ = ["AqiResult", "Level", "daily_aqi", "hourly_aqi", "level_for", "nowcast", "sub_index"]
