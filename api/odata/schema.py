"""The OData service's entity sets: each one's source in SQL, its key, and its properties with their
SQL expressions and EDM types — from which the CSDL `$metadata` is written and every query option
is checked (a property not here is a 400, never a column name taken from a client)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from telemetry.metrics import catalogue

NAMESPACE = "citysense"


@dataclass(frozen=True)
class Prop:
    name: str
    sql: str  # an expression over the set's source (written here, never from a request)
    edm: str
    nullable: bool = True


@dataclass(frozen=True)
class EntitySet:
    name: str
    entity_type: str
    source: str  # FROM … [WHERE …]
    key: tuple[str, ...]
    props: tuple[Prop, ...]
    entity_label: str  # the access log's entity type

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)


def _metrics(alias: str) -> tuple[Prop, ...]:
    return tuple(Prop(m, f"{alias}.{m}", "Edm.Double") for m in catalogue())


SETS = (
    EntitySet("Areas", "Area", "areas a", ("code",), (
        Prop("code", "a.code", "Edm.Int32", False), Prop("name", "a.name", "Edm.String", False),
        Prop("kind", "a.kind", "Edm.String", False), Prop("level", "a.level", "Edm.String", False),
        Prop("parent", "a.parent", "Edm.Int32"), Prop("lat", "a.lat", "Edm.Double"), Prop("lon", "a.lon", "Edm.Double"),
        Prop("population", "a.population", "Edm.Int32"), Prop("area_set", "a.area_set", "Edm.String", False)), "Area"),
    EntitySet("Devices", "Device", "devices d", ("device_id",), (
        Prop("device_id", "d.device_id", "Edm.String", False), Prop("area", "d.district", "Edm.Int32", False),
        Prop("kind", "d.kind", "Edm.String", False), Prop("status", "d.status", "Edm.String", False),
        Prop("name", "d.name", "Edm.String"), Prop("lat", "d.lat", "Edm.Double"), Prop("lon", "d.lon", "Edm.Double"),
        Prop("interval_s", "d.interval_s", "Edm.Int32", False), Prop("zone", "d.zone", "Edm.String"),
        Prop("flood_threshold_cm", "d.flood_threshold_cm", "Edm.Double"), Prop("road", "d.road", "Edm.String"),
        Prop("river", "d.river", "Edm.String")), "Device"),
    EntitySet("Readings", "Reading", "readings r", ("device_id", "ts", "status"), (
        Prop("ts", "r.ts", "Edm.DateTimeOffset", False), Prop("device_id", "r.device_id", "Edm.String", False),
        Prop("area", "r.district", "Edm.Int32", False), Prop("kind", "r.kind", "Edm.String", False),
        Prop("status", "r.status", "Edm.String", False), Prop("seq", "r.seq", "Edm.Int64"),
        Prop("received_at", "r.received_at", "Edm.DateTimeOffset", False)) + _metrics("r"), "Reading"),
    EntitySet("HourlyAggregates", "HourlyAggregate", "aggregates g WHERE g.window_s = 3600",
              ("area", "metric", "window_start"), (
        Prop("area", "g.district", "Edm.Int32", False), Prop("metric", "g.metric", "Edm.String", False),
        Prop("unit", "g.unit", "Edm.String"), Prop("window_start", "g.window_start", "Edm.DateTimeOffset", False),
        Prop("window_end", "g.window_end", "Edm.DateTimeOffset", False), Prop("count", "g.count", "Edm.Int32", False),
        Prop("min", "g.min", "Edm.Double"), Prop("max", "g.max", "Edm.Double"), Prop("sum", "g.sum", "Edm.Double"),
        Prop("mean", "g.mean", "Edm.Double"), Prop("excluded", "g.excluded", "Edm.Int32", False),
        Prop("level", "g.level", "Edm.String"), Prop("areas", "g.areas", "Edm.Int32")), "HourlyAggregate"),
    EntitySet("Aqi", "AirQualityIndex", "aqi q", ("area", "period", "start"), (
        Prop("area", "q.district", "Edm.Int32", False), Prop("period", "q.period", "Edm.String", False),
        Prop("start", "q.start", "Edm.DateTimeOffset", False), Prop("end", 'q."end"', "Edm.DateTimeOffset", False),
        Prop("aqi", "q.aqi", "Edm.Int32", False), Prop("level_vi", "q.level_vi", "Edm.String", False),
        Prop("level_en", "q.level_en", "Edm.String", False), Prop("dominant", "q.dominant", "Edm.String"),
        Prop("area_level", "q.level", "Edm.String"), Prop("worst_area", "q.worst_area", "Edm.Int32")),
        "AirQualityIndex"),
    EntitySet("Alerts", "Alert", "alerts l", ("alert_id",), (
        Prop("alert_id", "l.alert_id", "Edm.String", False), Prop("area", "l.district", "Edm.Int32", False),
        Prop("rule", "l.rule", "Edm.String", False), Prop("subject", "l.subject", "Edm.String", False),
        Prop("state", "l.state", "Edm.String", False), Prop("severity", "l.severity", "Edm.String", False),
        Prop("value", "l.value", "Edm.Double"), Prop("peak", "l.peak", "Edm.Double"),
        Prop("threshold", "l.threshold", "Edm.Double"), Prop("unit", "l.unit", "Edm.String"),
        Prop("opened_at", "l.opened_at", "Edm.DateTimeOffset", False),
        Prop("updated_at", "l.updated_at", "Edm.DateTimeOffset", False),
        Prop("resolved_at", "l.resolved_at", "Edm.DateTimeOffset")), "Alert"),
)
BY_NAME = {s.name: s for s in SETS}


def metadata() -> str:
    """The CSDL XML document (OData 4.0)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
             "<edmx:DataServices>", f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{NAMESPACE}">']
    for s in SETS:
        lines.append(f"<EntityType Name={quoteattr(s.entity_type)}><Key>")
        lines += [f"<PropertyRef Name={quoteattr(k)}/>" for k in s.key]
        lines.append("</Key>")
        lines += [f"<Property Name={quoteattr(p.name)} Type={quoteattr(p.edm)}"
                  f"{'' if p.nullable else ' Nullable=' + quoteattr('false')}/>" for p in s.props]
        lines.append("</EntityType>")
    lines.append('<EntityContainer Name="Container">')
    lines += [f"<EntitySet Name={quoteattr(s.name)} EntityType={quoteattr(NAMESPACE + '.' + s.entity_type)}/>"
              for s in SETS]
    lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(lines) + "\n"
