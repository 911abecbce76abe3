"""VN_AQI written out again from Decision 1459/QĐ-TCMT's text and tables, for tests: an implementation
independent of telemetry/aqi (same standard, none of its code), checked against hand-computed values
in tests/unit/telemetry/test_aqi_by_hand.py."""

from __future__ import annotations

INDEX = [0, 50, 100, 150, 200, 300, 400, 500]
BREAKPOINTS = {  # µg/m³, Table 2 of the decision
    "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "co": [0, 10000, 30000, 45000, 60000, 90000, 120000, 150000],
    "so2": [0, 125, 350, 550, 800, 1600, 2100, 2630],
    "no2": [0, 100, 200, 700, 1200, 2350, 3100, 3850],
    "pm10": [0, 50, 150, 250, 350, 420, 500, 600],
    "pm2_5": [0, 25, 50, 80, 150, 250, 350, 500],
}


def sub_index(pollutant: str, c: float) -> float:
    bp = BREAKPOINTS[pollutant]
    for i in range(len(bp) - 1):
        if bp[i] <= c <= bp[i + 1]:
            return (INDEX[i + 1] - INDEX[i]) / (bp[i + 1] - bp[i]) * (c - bp[i]) + INDEX[i]
    return 500.0


def nowcast(hours: list[float | None]) -> float | None:
    """hours[0] is the current hour; normalised weights (the project's documented choice)."""
    if sum(h is not None for h in hours[:3]) < 2:
        return None
    present = [h for h in hours[:12] if h is not None]
    ratio = min(present) / max(present) if max(present) > 0 else 1.0
    w = 0.5 if ratio <= 0.5 else ratio
    num = sum(w ** i * h for i, h in enumerate(hours[:12]) if h is not None)
    den = sum(w ** i for i, h in enumerate(hours[:12]) if h is not None)
    return num / den


def hourly(pm: dict[str, list[float | None]], gases: dict[str, float]) -> int:
    subs = [sub_index(p, v) for p, hist in pm.items() if (v := nowcast(hist)) is not None]
    subs += [sub_index("o3_1h" if g == "o3" else g, v) for g, v in gases.items()]
    return round(max(subs))
