"""Breakpoint table of Decision 1459/QĐ-TCMT (concentrations in µg/m³), from data/aqi_breakpoints.csv."""

from __future__ import annotations

from functools import cache

from telemetry.resources import data_csv

COLUMNS = ("o3_1h", "o3_8h", "co", "so2", "no2", "pm10", "pm2_5")


@cache
def table() -> dict[str, list[tuple[float, int]]]:
    """Column -> [(BP_i, I_i), …] in increasing order (O3 8h stops at 400 µg/m³ / index 300)."""
    out: dict[str, list[tuple[float, int]]] = {c: [] for c in COLUMNS}
    for row in data_csv("aqi_breakpoints.csv"):
        for col in COLUMNS:
            if row[col] != "":
                out[col].append((float(row[col]), int(row["index"])))
    return out
