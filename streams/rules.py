"""Alert rule thresholds, read from a JSON file (streams/rules.default.json unless configured)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

DEFAULT_RULES = Path(__file__).with_name("rules.default.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AqiRule(_Strict):
    open_above: int = 150
    resolve_at_or_below: int = 140


class PollutantRule(_Strict):
    gases_1h: tuple[str, ...] = ("so2", "co", "no2", "o3")
    pm_24h: tuple[str, ...] = ("pm2_5", "pm10")
    hysteresis: float = 0.1


class NoiseRule(_Strict):
    consecutive: int = 3
    hysteresis_db: float = 3.0


class FloodRule(_Strict):
    hysteresis_cm: float = 10.0


class CongestionRule(_Strict):
    speed_below_kmh: float = 15.0
    occupancy_above_pct: float = 60.0
    consecutive: int = 3


class SilentRule(_Strict):
    minutes: float = 10


class Rules(_Strict):
    renotify_s: int = 3600
    no_data_after_s: int = 3 * 3600  # an open alert whose subject sent nothing this long (event time) ends as no_data
    aqi: AqiRule = AqiRule()
    pollutant_limit: PollutantRule = PollutantRule()
    noise: NoiseRule = NoiseRule()
    flood: FloodRule = FloodRule()
    congestion: CongestionRule = CongestionRule()
    silent: SilentRule = SilentRule()

    @classmethod
    def from_file(cls, path: Path | None = None) -> Rules:
        data = json.loads((path or DEFAULT_RULES).read_text(encoding="utf-8"))
        data.pop("_doc", None)
        return cls.model_validate(data)
