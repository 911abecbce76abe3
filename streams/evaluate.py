"""Turn closed windows and hourly results into alert-rule observations (pure logic)."""

from __future__ import annotations

from datetime import datetime, timezone

from streams import aggregation
from streams.alerts import Observation
from streams.rules import Rules
from streams.windows import ClosedWindow
from telemetry.devices import DeviceRegistry
from telemetry.standards import air_limit, noise_limit


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def aqi_observation(rules: Rules, hour_start_ms: int, aqi: int) -> Observation:
    end = hour_start_ms + 3_600_000
    return Observation("aqi_bad", "aqi", float(aqi), float(rules.aqi.open_above), aqi > rules.aqi.open_above,
                       aqi <= rules.aqi.resolve_at_or_below, hour_start_ms, end, unit="AQI",
                       severity="critical" if aqi > 200 else "warning")


def pollutant_observations(rules: Rules, hour_start_ms: int, means: dict[str, float],
                           pm_24h: dict[str, float | None]) -> list[Observation]:
    end = hour_start_ms + 3_600_000
    h = rules.pollutant_limit.hysteresis
    out = []
    for gas in rules.pollutant_limit.gases_1h:
        limit = air_limit(gas, "1h", _dt(hour_start_ms))
        if limit is not None and means.get(gas) is not None:
            v = means[gas]
            out.append(Observation(f"limit_{gas}_1h", gas, v, limit, v > limit, v < limit * (1 - h), hour_start_ms,
                                   end, unit="µg/m³"))
    for pm in rules.pollutant_limit.pm_24h:
        limit = air_limit(pm, "24h", _dt(hour_start_ms))
        v = pm_24h.get(pm)
        if limit is not None and v is not None:
            out.append(Observation(f"limit_{pm}_24h", pm, v, limit, v > limit, v < limit * (1 - h), hour_start_ms,
                                   end, unit="µg/m³"))
    return out


def device_observations(rules: Rules, registry: DeviceRegistry, windows: list[ClosedWindow]) -> list[Observation]:
    """Noise over its zone's limit, water over its gauge's flood threshold, congestion on a counter."""
    out = []
    traffic: dict[tuple[str, int], dict[str, ClosedWindow]] = {}
    for w in windows:
        device = registry.get(w.device) if w.device else None
        if device is None:
            continue
        mean = aggregation.mean(w.agg, w.metric)
        if mean is None:
            continue
        if w.metric == "noise_laeq" and device.zone is not None:
            limit = noise_limit(device.zone.value, _dt(w.start_ms))
            out.append(Observation("noise_over_limit", w.device, mean, limit, mean > limit,
                                   mean <= limit - rules.noise.hysteresis_db, w.start_ms, w.end_ms,
                                   rules.noise.consecutive, "dB(A)"))
        elif w.metric == "water_level" and device.flood_threshold_cm is not None:
            level, threshold = w.agg["max"], device.flood_threshold_cm
            out.append(Observation("flood", w.device, level, threshold, level > threshold,
                                   level < threshold - rules.flood.hysteresis_cm, w.start_ms, w.end_ms, unit="cm",
                                   severity="critical"))
        elif w.metric in ("avg_speed", "occupancy"):
            traffic.setdefault((w.device, w.start_ms), {})[w.metric] = w
    c = rules.congestion
    for (device_id, start), pair in sorted(traffic.items(), key=lambda kv: kv[0][1]):
        if len(pair) < 2:
            continue
        speed = aggregation.mean(pair["avg_speed"].agg, "avg_speed")
        occupancy = aggregation.mean(pair["occupancy"].agg, "occupancy")
        congested = speed < c.speed_below_kmh and occupancy > c.occupancy_above_pct
        out.append(Observation("congestion", device_id, occupancy, c.occupancy_above_pct, congested, not congested,
                               start, pair["occupancy"].end_ms, c.consecutive, "%"))
    return out


def silent_observations(rules: Rules, state: dict, watermark_ms: int | None,
                        gone: set[str] = frozenset()) -> list[Observation]:
    """Devices of the registry silent for longer than the rule's minutes (not those in `gone`: removed
    from the registry or revoked, whose alerts end as no_data instead)."""
    if watermark_ms is None:
        return []
    limit_ms = rules.silent.minutes * 60_000
    out = []
    for device_id, device in state.get("devices", {}).items():
        if device_id in gone:
            continue
        silent_ms = watermark_ms - device["last_ms"]
        key = f"device_silent|{device_id}"
        if silent_ms > limit_ms or key in state.get("alerts", {}):
            out.append(Observation("device_silent", device_id, round(silent_ms / 60_000, 1), rules.silent.minutes,
                                   silent_ms > limit_ms, silent_ms <= limit_ms, device["last_ms"], watermark_ms,
                                   unit="min"))
    return out
