"""Realistic, deterministic signals for each kind of device as functions of simulated time.

Daily and weekly rhythm (rush hours 06:30–08:30 and 16:30–18:30 local time, quiet nights, lighter
weekends); winter PM2.5 peaking at night and early morning (inversions) plus traffic; O3 at midday;
rain events that raise rivers with a lag; noise that follows traffic. Each device keeps a small
state (rain, river level) and draws from its own seeded random generator.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

from telemetry.devices import Device

LOCAL = timezone(timedelta(hours=7))


def local_hour(ts: datetime) -> float:
    t = ts.astimezone(LOCAL)
    return t.hour + t.minute / 60 + t.second / 3600


def traffic_level(ts: datetime) -> float:
    """0..1.2: relative traffic at a local time (two rush-hour peaks, quiet nights, lighter weekends)."""
    h = local_hour(ts)
    level = 0.08 + 0.55 * math.exp(-((h - 12.5) / 4.5) ** 2)
    level += 0.6 * math.exp(-((h - 7.5) / 0.9) ** 2) + 0.65 * math.exp(-((h - 17.5) / 0.9) ** 2)
    if ts.astimezone(LOCAL).weekday() >= 5:
        level *= 0.7
    return level


def winter_factor(ts: datetime) -> float:
    month = ts.astimezone(LOCAL).month
    return 1.6 if month in (11, 12, 1, 2, 3) else 0.8


class DeviceSignal:
    def __init__(self, device: Device, seed: int) -> None:
        self.device = device
        self.rng = random.Random(f"{seed}:{device.device_id}")
        self.base = self.rng.uniform(0.85, 1.2)  # this site's own level
        if "khu công nghiệp" in (device.name or ""):  # a station at an industrial zone or port (fleet.py)
            self.base *= 1.4
        self.rain_mm_h = 0.0
        self.water_cm = (device.flood_threshold_cm or 450) * self.rng.uniform(0.55, 0.7)
        self.storm_at: float | None = None

    def _noise(self, scale: float) -> float:
        return self.rng.gauss(0.0, scale)

    def metrics(self, ts: datetime, dt_s: float) -> dict[str, float]:
        kind = self.device.kind.value
        if kind == "noise":
            return self._noise_laeq(ts, dt_s)
        return getattr(self, f"_{kind}")(ts, dt_s)

    def _air_quality(self, ts: datetime, dt_s: float) -> dict[str, float]:
        h = local_hour(ts)
        traffic = traffic_level(ts)
        night = 0.5 * (1 + math.cos(2 * math.pi * (h - 3) / 24))  # 1 at 03:00, 0 at 15:00
        inversion = 1.0 + 1.2 * night  # a shallow mixing layer traps particles at night and early morning
        pm25 = max(3.0, self.base * winter_factor(ts) * (28 * inversion + 30 * traffic) + self._noise(4))
        no2 = max(2.0, self.base * (18 + 70 * traffic) + self._noise(5))
        o3 = max(2.0, self.base * (25 + 110 * math.exp(-((h - 14) / 3) ** 2)) + self._noise(6))
        return {"pm2_5": round(pm25, 1), "pm10": round(pm25 * 1.6 + abs(self._noise(6)), 1),
                "co": round(max(100.0, 600 + 2200 * traffic + self._noise(120)), 0), "no2": round(no2, 1),
                "so2": round(max(1.0, 8 + 10 * traffic + self._noise(2)), 1), "o3": round(o3, 1),
                "temperature": round(self._temperature(ts), 1), "humidity": round(self._humidity(ts), 1)}

    def _temperature(self, ts: datetime) -> float:
        h = local_hour(ts)
        mean = 19.0 if winter_factor(ts) > 1 else 29.0
        return mean + 4.5 * math.sin((h - 8) / 24 * 2 * math.pi) + self._noise(0.3)

    def _humidity(self, ts: datetime) -> float:
        return min(100.0, max(30.0, 80 - 12 * math.sin((local_hour(ts) - 8) / 24 * 2 * math.pi)
                              + 15 * min(1.0, self.rain_mm_h / 5) + self._noise(2)))

    def _weather(self, ts: datetime, dt_s: float) -> dict[str, float]:
        self._update_rain(ts, dt_s)
        return {"temperature": round(self._temperature(ts), 1), "humidity": round(self._humidity(ts), 1),
                "rainfall": round(self.rain_mm_h * dt_s / 3600, 2),
                "wind_speed": round(max(0.0, 2.5 + 1.5 * traffic_level(ts) + self._noise(0.8)), 1),
                "wind_direction": round((45 + 40 * math.sin(local_hour(ts) / 24 * 2 * math.pi)
                                         + self._noise(15)) % 360, 0)}

    def _update_rain(self, ts: datetime, dt_s: float) -> None:
        """Storms: a few a day at random, an hour or two of rain each (same for a given seed)."""
        hours = dt_s / 3600
        if self.storm_at is None and self.rng.random() < 0.25 * hours:
            self.storm_at = 0.0
        if self.storm_at is not None:
            self.storm_at += hours
            self.rain_mm_h = max(0.0, 25 * math.sin(math.pi * self.storm_at / 1.5))
            if self.storm_at >= 1.5:
                self.storm_at, self.rain_mm_h = None, 0.0

    def _water_level(self, ts: datetime, dt_s: float) -> dict[str, float]:
        self._update_rain(ts, dt_s)
        # The river follows upstream rain with a lag: it rises while it rains, then recedes slowly.
        inflow = 9.0 * self.rain_mm_h * dt_s / 3600
        recession = (self.water_cm - (self.device.flood_threshold_cm or 450) * 0.6) * (1 - math.exp(-dt_s / 36000))
        self.water_cm += inflow - recession + self._noise(0.5)
        return {"water_level": round(self.water_cm, 1)}

    def _traffic(self, ts: datetime, dt_s: float) -> dict[str, float]:
        level = traffic_level(ts) * self.base
        minutes = dt_s / 60
        moto = max(0, round((55 * level + self.rng.gauss(0, 4)) * minutes))
        car = max(0, round((14 * level + self.rng.gauss(0, 2)) * minutes))
        truck = max(0, round((4 + 3 * level + self.rng.gauss(0, 1)) * minutes))
        congestion = max(0.0, level - 0.85) * 4
        speed = max(4.0, 48 - 30 * min(1.0, congestion) - 6 * level + self.rng.gauss(0, 2))
        occupancy = min(95.0, max(1.0, 12 + 55 * min(1.0, congestion) + 15 * level + self.rng.gauss(0, 2)))
        return {"vehicles_motorbike": moto, "vehicles_car": car, "vehicles_truck_bus": truck,
                "avg_speed": round(speed, 1), "occupancy": round(occupancy, 1)}

    def _noise_meter(self, ts: datetime) -> float:
        level = traffic_level(ts)
        base = 46.0 if self.device.zone and self.device.zone.value == "special" else 52.0
        return base + 14 * math.log10(1 + 9 * level) + self.rng.gauss(0, 1.5)

    def _noise_laeq(self, ts: datetime, dt_s: float) -> dict[str, float]:
        return {"noise_laeq": round(self._noise_meter(ts), 1)}
