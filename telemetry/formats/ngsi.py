"""FIWARE Smart Data Models in NGSI-LD: AirQualityObserved, TrafficFlowObserved, NoiseLevelObserved.

Both shapes are accepted: *normalized* (each attribute `{"type": "Property", "value": …,
"unitCode": …}`; NGSI v2's `metadata.unitCode` too) and *keyValues* (plain values). An array of
entities is a batch. Decisions (see docs/contracts.md):
- Time: the end of the observed period (`dateObservedTo`, or the end of a `dateObserved` interval
  "start/end"), else `dateObserved`/`dateObservedFrom`. NGSI date-times are UTC: one without an
  offset is read as UTC.
- Attribute names are matched case-insensitively (published examples use both `CO` and `co`).
- Pollutants without `unitCode` are µg/m³ (GQ). `relativeHumidity` and `occupancy` without
  `unitCode` follow the schema (fraction 0–1) unless the value is above 1, read as percent.
- TrafficFlowObserved `intensity` counts go to the class of `vehicleType` (motorcycle -> motorbike,
  car/van -> car, bus/lorry/truck -> truck_bus), or `vehicles_total` when no class is given.
- Attributes of the models that the platform does not keep (NO, NOx, LAmax, reliability …) are
  ignored; an entity with none that it keeps is refused (missing_field).
"""

from __future__ import annotations

from datetime import datetime, timezone

from telemetry.formats.observation import Observation, RawValue, is_number, parse_time
from telemetry.rejections import Reason, Rejected

ENTITY_TYPES = ("AirQualityObserved", "TrafficFlowObserved", "NoiseLevelObserved")
MAX_ENTITIES = 100

_AIR = {
    "pm25": "pm2_5", "pm2_5": "pm2_5", "pm10": "pm10", "co": "co", "no2": "no2", "so2": "so2", "o3": "o3",
    "temperature": "temperature", "relativehumidity": "humidity", "windspeed": "wind_speed",
    "winddirection": "wind_direction", "precipitation": "rainfall",
}
_TRAFFIC = {"averagevehiclespeed": "avg_speed", "occupancy": "occupancy"}
_NOISE = {"laeq": "noise_laeq"}
_FRACTION_BY_DEFAULT = {"humidity", "occupancy"}
_VEHICLE_CLASS = {
    "motorcycle": "vehicles_motorbike", "motorbike": "vehicles_motorbike", "moped": "vehicles_motorbike",
    "car": "vehicles_car", "van": "vehicles_car",
    "bus": "vehicles_truck_bus", "minibus": "vehicles_truck_bus", "lorry": "vehicles_truck_bus",
    "truck": "vehicles_truck_bus", "trailer": "vehicles_truck_bus",
}


def looks_ngsi(value: object) -> bool:
    if isinstance(value, dict):
        return value.get("type") in ENTITY_TYPES
    return (
        isinstance(value, list) and len(value) > 0
        and all(isinstance(e, dict) and e.get("type") in ENTITY_TYPES for e in value)
    )


def _attr(entity: dict, name: str) -> tuple[object, str | None] | None:
    """(value, unitCode) of an attribute in either shape, or None when absent."""
    raw = entity.get(name)
    if raw is None:
        return None
    if isinstance(raw, dict) and "value" in raw and raw.get("type") not in ("PostalAddress", "Point"):
        unit = raw.get("unitCode")
        meta = raw.get("metadata")
        if unit is None and isinstance(meta, dict) and isinstance(meta.get("unitCode"), dict):
            unit = meta["unitCode"].get("value")
        return raw["value"], unit
    return raw, None


def _date(entity: dict, name: str) -> tuple[datetime, datetime | None] | None:
    found = _attr(entity, name)
    if found is None:
        return None
    value = found[0]
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if not isinstance(value, str):
        raise Rejected(Reason.WRONG_TYPE, f"{name} must be an ISO 8601 date-time")
    parts = value.split("/")
    if len(parts) > 2:
        raise Rejected(Reason.WRONG_TYPE, f"{name} {value[:60]!r} is not a date-time or an interval")
    times = []
    for part in parts:
        try:
            ts = datetime.fromisoformat(part)
        except ValueError:
            raise Rejected(Reason.WRONG_TYPE, f"{name} {value[:60]!r} is not ISO 8601") from None
        times.append(ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc))
    return times[0], (times[1] if len(times) == 2 else None)


def _observed_at(entity: dict) -> datetime:
    to = _date(entity, "dateObservedTo")
    if to:
        return to[0]
    for name in ("dateObserved", "dateObservedFrom"):
        found = _date(entity, name)
        if found:
            return found[1] or found[0]
    if "observedAt" in entity:
        return parse_time(entity["observedAt"], "observedAt")
    raise Rejected(Reason.MISSING_FIELD, "NGSI-LD entity needs dateObserved (or dateObservedFrom/To)")


def _entity(entity: dict) -> Observation:
    kind = entity["type"]
    table = {"AirQualityObserved": _AIR, "TrafficFlowObserved": _TRAFFIC, "NoiseLevelObserved": _NOISE}[kind]
    lowered = {k.lower(): k for k in entity}
    obs = Observation(ts=_observed_at(entity))
    for attr_lower, metric_name in table.items():
        if attr_lower not in lowered:
            continue
        value, unit = _attr(entity, lowered[attr_lower])
        if metric_name in _FRACTION_BY_DEFAULT and unit is None and is_number(value):
            unit = "%" if value > 1 else "fraction"
        obs.add(metric_name, RawValue(value, unit))
    if kind == "TrafficFlowObserved" and "intensity" in lowered:
        value, unit = _attr(entity, lowered["intensity"])
        vtype = _attr(entity, lowered["vehicletype"])[0] if "vehicletype" in lowered else None
        target = _VEHICLE_CLASS.get(str(vtype).lower(), "vehicles_total") if vtype else "vehicles_total"
        obs.add(target, RawValue(value, None))
    if not obs.values:
        raise Rejected(Reason.MISSING_FIELD, f"{kind} entity carries no attribute that citysense keeps")
    return obs


def parse(value: dict | list) -> list[Observation]:
    entities = value if isinstance(value, list) else [value]
    if len(entities) > MAX_ENTITIES:
        raise Rejected(Reason.PAYLOAD_TOO_LARGE, f"batch of {len(entities)} entities (at most {MAX_ENTITIES})")
    return [_entity(e) for e in entities]
