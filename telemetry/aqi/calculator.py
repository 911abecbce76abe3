"""VN_AQI sub-indices, PM NowCast, hourly and daily AQI (Decision 1459/QĐ-TCMT).

Decisions on the points the text leaves open (also in docs/contracts.md):
- NowCast uses the *normalised* weighted mean Σ w^(i-1)·c_i / Σ w^(i-1) over the hours present,
  also when w = 1/2 (the text writes that case as Σ (1/2)^i·c_i; the two agree when all 12 hours
  are present, to 0.02 %, and only the normalised form stays a mean when hours are missing).
- A sub-index is computed unrounded; the AQI is the largest, rounded half up to an integer.
  Sub-indices are reported rounded the same way. (The decision's worked example prints 60 for
  NO2 = 118.7 µg/m³ where the formula gives 59.35 -> 59; this follows the formula.)
- A concentration above the top breakpoint is capped at 500 and flagged `beyond_index`.
- Negative concentrations are treated as 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from telemetry.aqi.breakpoints import table
from telemetry.aqi.levels import level_for


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def sub_index(column: str, concentration: float) -> tuple[float, bool] | None:
    """(unrounded sub-index, beyond_index) for `column` (o3_1h, o3_8h, co, so2, no2, pm10, pm2_5)."""
    if concentration is None or not math.isfinite(concentration):
        return None
    c = max(0.0, concentration)
    bps = table()[column]
    for (bp_lo, i_lo), (bp_hi, i_hi) in zip(bps, bps[1:]):
        if c <= bp_hi:
            return (i_hi - i_lo) / (bp_hi - bp_lo) * (c - bp_lo) + i_lo, False
    if column == "o3_8h":
        return None  # above 400 µg/m³ the 8 h sub-index is not used (the 1 h one is)
    return 500.0, True


def nowcast(hours: Sequence[float | None]) -> float | None:
    """PM NowCast from hourly means c1 (current hour) … c12; None for a missing hour.

    Needs at least 2 of c1, c2, c3; w* = c_min/c_max; w = 1/2 if w* ≤ 1/2 else w*.
    """
    c = list(hours[:12])
    if sum(1 for x in c[:3] if x is not None) < 2:
        return None
    present = [(i, max(0.0, x)) for i, x in enumerate(c) if x is not None]
    cmax = max(x for _, x in present)
    if cmax == 0:
        return 0.0
    w_star = min(x for _, x in present) / cmax
    w = 0.5 if w_star <= 0.5 else w_star
    return sum(w**i * x for i, x in present) / sum(w**i for i, _ in present)


@dataclass
class AqiResult:
    aqi: int | None
    dominant: str | None
    sub_indices: dict[str, int] = field(default_factory=dict)
    nowcast: dict[str, float | None] = field(default_factory=dict)
    beyond_index: bool = False

    def as_dict(self) -> dict:
        level = level_for(self.aqi) if self.aqi is not None else None
        return {
            "aqi": self.aqi,
            "level": level.as_dict() if level else None,
            "colour": list(level.rgb) if level else None,
            "dominant": self.dominant,
            "sub_indices": self.sub_indices,
            "nowcast": {k: (round(v, 2) if v is not None else None) for k, v in self.nowcast.items()},
            "beyond_index": self.beyond_index,
            "health": {"vi": level.health_vi, "en": level.health_en} if level else None,
        }


def _combine(subs: dict[str, tuple[float, bool]], nowcasts: dict[str, float | None]) -> AqiResult:
    """AQI from sub-indices; at least one of PM10 or PM2.5 must be present."""
    if not any(k in subs for k in ("pm2_5", "pm10")):
        return AqiResult(None, None, {k: round_half_up(v) for k, (v, _) in subs.items()}, nowcasts)
    dominant = max(subs, key=lambda k: subs[k][0])
    value, beyond = subs[dominant]
    return AqiResult(
        aqi=min(500, round_half_up(value)),
        dominant=dominant,
        sub_indices={k: round_half_up(v) for k, (v, _) in subs.items()},
        nowcast=nowcasts,
        beyond_index=beyond,
    )


def hourly_aqi(pm_hours: Mapping[str, Sequence[float | None]], gases: Mapping[str, float | None]) -> AqiResult:
    """Hourly AQI. `pm_hours`: pm2_5/pm10 -> 12 hourly means, most recent first;
    `gases`: o3/co/so2/no2 -> the current hour's 1 h mean."""
    subs: dict[str, tuple[float, bool]] = {}
    nowcasts: dict[str, float | None] = {}
    for pm in ("pm2_5", "pm10"):
        if pm in pm_hours and pm_hours[pm] is not None:
            nowcasts[pm] = nowcast(pm_hours[pm])
            if nowcasts[pm] is not None:
                subs[pm] = sub_index(pm, nowcasts[pm])  # type: ignore[assignment]
    for gas, column in (("o3", "o3_1h"), ("co", "co"), ("so2", "so2"), ("no2", "no2")):
        si = sub_index(column, gases.get(gas)) if gases.get(gas) is not None else None
        if si is not None:
            subs[gas] = si
    return _combine(subs, nowcasts)


def daily_aqi(values: Mapping[str, float | None]) -> AqiResult:
    """Daily AQI from: pm2_5, pm10 (24 h means); co_1h_max, so2_1h_max, no2_1h_max; o3_1h_max and
    o3_8h_max (the larger O3 sub-index counts; the 8 h one is skipped above 400 µg/m³)."""
    subs: dict[str, tuple[float, bool]] = {}
    for key, column in (("pm2_5", "pm2_5"), ("pm10", "pm10"), ("co_1h_max", "co"), ("so2_1h_max", "so2"),
                        ("no2_1h_max", "no2")):
        v = values.get(key)
        si = sub_index(column, v) if v is not None else None
        if si is not None:
            subs[key.split("_1h")[0]] = si
    o3 = [sub_index(col, values[key]) for key, col in (("o3_1h_max", "o3_1h"), ("o3_8h_max", "o3_8h"))
          if values.get(key) is not None]
    o3 = [s for s in o3 if s is not None]
    if o3:
        subs["o3"] = max(o3, key=lambda s: s[0])
    return _combine(subs, {})
