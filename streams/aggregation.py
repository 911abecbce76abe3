"""Running aggregates of one metric in one window: mergeable, JSON-serialisable, never raw events.

Each aggregate is a small dict of sums, so a window's state does not grow with its readings:
count, min, max, sum; for noise the energy sum Σ10^(L/10) (mean = 10·log10(energy/n), not the
arithmetic mean of decibels); for wind direction the unit-vector sums (vector mean direction);
for traffic speed the vehicle-count-weighted sums (count-weighted mean speed).
"""

from __future__ import annotations

import math

ENERGY = {"noise_laeq"}
VECTOR = {"wind_direction"}
WEIGHTED = {"avg_speed"}


def new() -> dict:
    return {"n": 0, "min": None, "max": None, "sum": 0.0}


def add(agg: dict, metric: str, value: float, weight: float | None = None) -> None:
    agg["n"] += 1
    agg["sum"] += value
    agg["min"] = value if agg["min"] is None or value < agg["min"] else agg["min"]
    agg["max"] = value if agg["max"] is None or value > agg["max"] else agg["max"]
    if metric in ENERGY:
        agg["energy"] = agg.get("energy", 0.0) + 10.0 ** (value / 10.0)
    elif metric in VECTOR:
        rad = math.radians(value)
        agg["sin"] = agg.get("sin", 0.0) + math.sin(rad)
        agg["cos"] = agg.get("cos", 0.0) + math.cos(rad)
    elif metric in WEIGHTED and weight is not None and weight > 0:
        agg["wsum"] = agg.get("wsum", 0.0) + value * weight
        agg["w"] = agg.get("w", 0.0) + weight


def merge(a: dict, b: dict) -> dict:
    """The aggregate of two disjoint sets of readings."""
    if a["n"] == 0:
        return dict(b)
    if b["n"] == 0:
        return dict(a)
    out = {"n": a["n"] + b["n"], "sum": a["sum"] + b["sum"], "min": min(a["min"], b["min"]),
           "max": max(a["max"], b["max"])}
    for k in ("energy", "sin", "cos", "wsum", "w"):
        if k in a or k in b:
            out[k] = a.get(k, 0.0) + b.get(k, 0.0)
    return out


def mean(agg: dict, metric: str) -> float | None:
    """The metric's proper mean: energy mean for noise, vector mean for direction, count-weighted
    for speed (arithmetic when no vehicles were counted), arithmetic otherwise."""
    n = agg["n"]
    if n == 0:
        return None
    if metric in ENERGY:
        return 10.0 * math.log10(agg["energy"] / n)
    if metric in VECTOR:
        if abs(agg["sin"]) < 1e-12 and abs(agg["cos"]) < 1e-12:
            return None  # opposite directions cancel: no mean direction
        direction = math.degrees(math.atan2(agg["sin"], agg["cos"])) % 360.0
        return 0.0 if direction > 360.0 - 1e-9 else direction
    if metric in WEIGHTED and agg.get("w", 0.0) > 0:
        return agg["wsum"] / agg["w"]
    return agg["sum"] / n


def summary(agg: dict, metric: str) -> dict:
    """What a window emits for one metric."""
    out = {"count": agg["n"], "min": agg["min"], "max": agg["max"], "sum": agg["sum"], "mean": mean(agg, metric)}
    if metric in ENERGY and agg["n"]:
        out["arithmetic_mean"] = agg["sum"] / agg["n"]
    if metric in VECTOR and agg["n"]:
        out["resultant"] = math.hypot(agg["sin"], agg["cos"]) / agg["n"]  # 1 = steady, 0 = all over the place
    if metric in WEIGHTED:
        out["vehicles"] = agg.get("w", 0.0)
    return out
