"""What citysense's data looks like as NGSI-LD entities: the entity types (Smart Data Models where one
fits, a documented profile where none does), each attribute's column and UN/CEFACT unit code, and
the rendering of a stored row as an entity — normalized (every measured property with `observedAt`
and `unitCode`), simplified (keyValues) or a GeoJSON feature.

Entities: one per device with an observation in the last 30 days (its latest `measuring` reading),
`urn:ngsi-ld:<Type>:<device id>`; one per area with an hourly VN_AQI (its latest hour),
`urn:ngsi-ld:AirQualityObserved:area-<code>`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PREFIX = "urn:ngsi-ld:"
AREA_PREFIX = "area-"


@dataclass(frozen=True)
class Attr:
    name: str  # the NGSI-LD attribute (a term of the context)
    column: str  # the readings column, or for an area's AQI: `aqi` or a pollutant of `concentrations`
    unit_code: str  # UN/CEFACT common code


AIR = (Attr("pm25", "pm2_5", "GQ"), Attr("pm10", "pm10", "GQ"), Attr("co", "co", "GQ"), Attr("no2", "no2", "GQ"),
       Attr("so2", "so2", "GQ"), Attr("o3", "o3", "GQ"))
WEATHER = (Attr("temperature", "temperature", "CEL"), Attr("relativeHumidity", "humidity", "P1"),
           Attr("precipitation", "rainfall", "MMT"), Attr("windSpeed", "wind_speed", "MTS"),
           Attr("windDirection", "wind_direction", "DD"))
# type of each device kind, and what its latest reading gives
DEVICE_TYPES: dict[str, tuple[str, tuple[Attr, ...]]] = {
    "air_quality": ("AirQualityObserved", AIR + WEATHER),
    "weather": ("WeatherObserved", WEATHER),
    "noise": ("NoiseLevelObserved", (Attr("LAeq", "noise_laeq", "2N"),)),
    "traffic": ("TrafficFlowObserved", (
        Attr("intensity", "vehicles_total", "C62"), Attr("intensityMotorbike", "vehicles_motorbike", "C62"),
        Attr("intensityCar", "vehicles_car", "C62"), Attr("intensityTruckBus", "vehicles_truck_bus", "C62"),
        Attr("averageVehicleSpeed", "avg_speed", "KMH"), Attr("occupancy", "occupancy", "P1"))),
    "water_level": ("WaterObserved", (Attr("waterLevel", "water_level", "CMT"),)),
}
AREA_TYPE = "AirQualityObserved"
AREA_ATTRS = (Attr("airQualityIndex", "aqi", "C62"),) + AIR  # pollutants: the hour's means
STATIC = ("location", "name", "areaServed", "areaCode", "refDevice", "dateObserved", "dateObservedFrom",
          "dateObservedTo", "airQualityLevel", "dominantPollutant", "areaLevel", "floodThreshold",
          "floodThresholdExceeded", "riverName",
          "roadName", "noiseZone")
TYPES = sorted({t for t, _ in DEVICE_TYPES.values()})


def attrs_of(entity_type: str) -> tuple[Attr, ...]:
    """The measured attributes an entity of this type may carry (devices' and areas' for AirQualityObserved)."""
    out = {a.name: a for kind_type, attrs in DEVICE_TYPES.values() if kind_type == entity_type for a in attrs}
    if entity_type == AREA_TYPE:
        out.update({a.name: a for a in AREA_ATTRS})
    return tuple(out.values())


def entity_id(entity_type: str, local: str) -> str:
    return f"{PREFIX}{entity_type}:{local}"


def split_id(urn: str) -> tuple[str, str] | None:
    """(type, local id) of one of our URNs, else None."""
    if not urn.startswith(PREFIX):
        return None
    entity_type, sep, local = urn[len(PREFIX):].partition(":")
    return (entity_type, local) if sep and local else None


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def prop(value, observed: datetime | None = None, unit: str | None = None) -> dict:
    out = {"type": "Property", "value": value}
    if observed is not None:
        out["observedAt"] = iso(observed)
    if unit is not None:
        out["unitCode"] = unit
    return out


def _place(row: dict) -> dict:
    out = {}
    if row["lat"] is not None and row["lon"] is not None:
        out["location"] = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}}
    return out


def device_entity(row: dict) -> dict:
    """A device's latest reading (a row of api/ngsi/store.py's DEVICES) as a normalized entity."""
    entity_type, attrs = DEVICE_TYPES[row["kind"]]
    ts: datetime = row["ts"]
    out = {"id": entity_id(entity_type, row["device_id"]), "type": entity_type}
    for a in attrs:
        if row.get(a.column) is not None:
            out[a.name] = prop(row[a.column], ts, a.unit_code)
    out.update(_place(row))
    out["dateObserved"] = prop({"@type": "DateTime", "@value": iso(ts)}, ts)
    if row["kind"] in ("noise", "traffic"):  # the interval the value is of
        out["dateObservedFrom"] = prop({"@type": "DateTime", "@value": iso(ts - timedelta(seconds=row["interval_s"]))},
                                       ts)
        out["dateObservedTo"] = prop({"@type": "DateTime", "@value": iso(ts)}, ts)
    out["refDevice"] = {"type": "Relationship", "object": entity_id("Device", row["device_id"])}
    out["areaServed"] = prop(row["area_name"], ts)
    out["areaCode"] = prop(row["district"], ts, "C62")
    if row.get("name"):
        out["name"] = prop(row["name"], ts)
    for key, column, unit in (("floodThreshold", "flood_threshold_cm", "CMT"), ("riverName", "river", None),
                              ("roadName", "road", None), ("noiseZone", "zone", None)):
        if row.get(column) is not None:
            out[key] = prop(row[column], ts, unit)
    if row.get("water_level") is not None and row.get("flood_threshold_cm") is not None:
        # as the streams' flood rule: over the threshold, not at it
        out["floodThresholdExceeded"] = prop(row["water_level"] > row["flood_threshold_cm"], ts)
    return out


def area_entity(row: dict) -> dict:
    """An area's latest hourly VN_AQI (a row of api/ngsi/store.py's AREAS): observed at the hour's end."""
    end: datetime = row["end"]
    out = {"id": entity_id(AREA_TYPE, f"{AREA_PREFIX}{row['code']}"), "type": AREA_TYPE,
           "airQualityIndex": prop(row["aqi"], end, "C62"),
           "airQualityLevel": prop(row["level_en"].lower(), end)}
    for a in AIR:
        value = (row["concentrations"] or {}).get(a.column)
        if value is not None:
            out[a.name] = prop(value, end, a.unit_code)
    if row["dominant"]:
        out["dominantPollutant"] = prop(row["dominant"], end)
    out.update(_place(row))
    out["dateObserved"] = prop({"@type": "DateTime", "@value": iso(end)}, end)
    out["dateObservedFrom"] = prop({"@type": "DateTime", "@value": iso(row["start"])}, end)
    out["dateObservedTo"] = prop({"@type": "DateTime", "@value": iso(end)}, end)
    out["areaServed"] = prop(row["name"], end)
    out["areaCode"] = prop(row["code"], end, "C62")
    out["areaLevel"] = prop(row["level"], end)
    return out


def project(entity: dict, attrs: set[str] | None) -> dict:
    """Only the attributes asked for (`attrs`), id and type always."""
    if attrs is None:
        return entity
    return {k: v for k, v in entity.items() if k in ("id", "type") or k in attrs}


def simplified(entity: dict) -> dict:
    """keyValues: each attribute as its value (a relationship as its object)."""
    out = {}
    for key, value in entity.items():
        if isinstance(value, dict):
            value = value.get("value", value.get("object"))
            if isinstance(value, dict) and "@value" in value:
                value = value["@value"]
        out[key] = value
    return out


def feature(entity: dict, keyvalues: bool) -> dict:
    """A GeoJSON feature: the location as geometry, the rest as properties."""
    shown = simplified(entity) if keyvalues else entity
    location = entity.get("location", {}).get("value")
    properties = {k: v for k, v in shown.items() if k != "id"}
    return {"id": entity["id"], "type": "Feature", "geometry": location, "properties": properties}
