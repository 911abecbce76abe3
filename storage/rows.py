"""Kafka messages -> database rows, per table: column names, binary COPY types, conversion (pure)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import orjson
from psycopg.types.json import Jsonb

from telemetry.metrics import catalogue

READING_METRICS = list(catalogue())


def ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class TableSpec:
    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    conflict: str  # the ON CONFLICT clause
    # COPY straight into the table first, in a savepoint; a batch that meets a stored row (a redelivery,
    # more metrics for the same instant) is rolled back to it and written through staging + ON CONFLICT
    copy_first: bool = False


READINGS = TableSpec(
    "readings",
    ("ts", "device_id", "district", "kind", "status", "seq", "received_at", "format", *READING_METRICS, "topic_area",
     "deliveries"),
    ("timestamptz", "text", "int4", "text", "text", "int8", "timestamptz", "text", *["float8"] * len(READING_METRICS),
     "int4", "int4"),
    # A second message for the same device, time and status adds the metrics it brings, if any, and
    # is counted in `deliveries` (an identical redelivery changes nothing else; `citysense audit`).
    "ON CONFLICT (device_id, ts, status) DO UPDATE SET "
    + ", ".join(f"{m} = COALESCE(readings.{m}, EXCLUDED.{m})" for m in (*READING_METRICS, "topic_area"))
    + ", deliveries = readings.deliveries + EXCLUDED.deliveries",
    copy_first=True,
)
def _update(table: str, columns: tuple[str, ...], fuller: str) -> str:
    """Upsert that replaces a stored row only by a fuller version of it (a roll-up refined as more of
    its communes' windows closed); a replay, or an older version arriving late, changes nothing."""
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    return f"DO UPDATE SET {sets}, stored_at = now() WHERE {fuller.format(new='EXCLUDED', old=table)}"


_AGG_VALUES = ("unit", "count", "min", "max", "sum", "mean", "excluded", "extra", "level", "parent", "areas")
AGGREGATES = TableSpec(
    "aggregates",
    ("window_start", "window_end", "window_s", "district", "metric", "unit", "count", "min", "max", "sum", "mean",
     "excluded", "extra", "level", "parent", "areas"),
    ("timestamptz", "timestamptz", "int4", "int4", "text", "text", "int4", "float8", "float8", "float8", "float8",
     "int4", "jsonb", "text", "int4", "int4"),
    "ON CONFLICT (district, metric, window_s, window_start) "
    + _update("aggregates", _AGG_VALUES, "{new}.count + {new}.excluded > {old}.count + {old}.excluded"),
)
_AQI_VALUES = ("aqi", "level_vi", "level_en", "colour", "dominant", "beyond_index", "sub_indices", "nowcast",
               "concentrations", "level", "parent", "areas", "worst_area")
AQI = TableSpec(
    "aqi",
    ("start", "end", "period", "district", "aqi", "level_vi", "level_en", "colour", "dominant", "beyond_index",
     "sub_indices", "nowcast", "concentrations", "level", "parent", "areas", "worst_area"),
    ("timestamptz", "timestamptz", "text", "int4", "int4", "text", "text", "int4[]", "text", "bool", "jsonb", "jsonb",
     "jsonb", "text", "int4", "int4", "int4"),
    # A group's AQI only rises as its communes' hours arrive (the worst of more), and holds more areas.
    "ON CONFLICT (district, period, start) "
    + _update("aqi", _AQI_VALUES, "({new}.aqi, coalesce({new}.areas, 0)) > ({old}.aqi, coalesce({old}.areas, 0))"),
)
_STATE_RANK = "CASE {}.state WHEN 'open' THEN 0 WHEN 'update' THEN 1 ELSE 2 END"  # resolved, no_data: final
ALERTS = TableSpec(
    "alerts",
    ("alert_id", "district", "rule", "subject", "state", "severity", "value", "peak", "threshold", "unit",
     "opened_at", "first_window_start", "updated_at", "resolved_at", "level", "parent"),
    ("text", "int4", "text", "text", "text", "text", "float8", "float8", "float8", "text", "timestamptz",
     "timestamptz", "timestamptz", "timestamptz", "text", "int4"),
    # A later message supersedes an earlier one; a replayed older one changes nothing.
    "ON CONFLICT (alert_id) DO UPDATE SET state = EXCLUDED.state, severity = EXCLUDED.severity, "
    "value = EXCLUDED.value, peak = GREATEST(alerts.peak, EXCLUDED.peak), updated_at = EXCLUDED.updated_at, "
    "resolved_at = EXCLUDED.resolved_at, stored_at = now() "
    "WHERE (alerts.updated_at, " + _STATE_RANK.format("alerts") + ") < (EXCLUDED.updated_at, "
    + _STATE_RANK.format("EXCLUDED") + ")",
)
LATE = TableSpec(
    "late_readings",
    ("ts", "device_id", "district", "status", "watermark", "late_by_s", "reading", "kafka_partition", "kafka_offset"),
    ("timestamptz", "text", "int4", "text", "timestamptz", "float8", "jsonb", "int4", "int8"),
    # The reading is the identity (as in readings): a streams replay publishes it again.
    "ON CONFLICT (device_id, ts, status) DO NOTHING",
)
DEADLETTERS = TableSpec(
    "deadletters",
    ("received_at", "reason", "message", "mqtt_topic", "device_id", "district", "payload", "payload_bytes",
     "payload_truncated", "payload_sha256", "gateway", "mqtt_dup", "kafka_partition", "kafka_offset"),
    ("timestamptz", "text", "text", "text", "text", "int4", "bytea", "int4", "bool", "text", "text", "bool", "int4",
     "int8"),
    # One reception of one payload on one topic (the gateway re-sends the same record after a failed delivery).
    "ON CONFLICT (received_at, mqtt_topic, payload_sha256) DO NOTHING",
)
SECURITY = TableSpec(
    "security_events",
    ("window_end", "window_start", "gateway", "client", "counts", "total", "flood", "first_topic", "kafka_partition",
     "kafka_offset"),
    ("timestamptz", "timestamptz", "text", "text", "jsonb", "int4", "bool", "text", "int4", "int8"),
    # One gateway's summary of one client for one interval.
    "ON CONFLICT (window_end, gateway, client) DO NOTHING",
)


DEVICE_HEALTH = TableSpec(
    "device_health",
    ("at", "device_id", "district", "kind", "state", "skew_s", "tolerance_s", "gateway"),
    ("timestamptz", "text", "int4", "text", "text", "float8", "float8", "text"),
    "ON CONFLICT (device_id, at, kind, gateway) DO NOTHING",
)


def reading_row(m: dict) -> tuple:
    metrics = m["metrics"]
    return (ts(m["ts"]), m["device_id"], m["district"], m["kind"], m.get("status", "measuring"), m.get("seq"),
            ts(m["received_at"]), m.get("format", "native"), *map(metrics.get, READING_METRICS),
            m.get("topic_area"), 1)


def aggregate_row(m: dict) -> tuple:
    extra = {k: m[k] for k in ("arithmetic_mean", "resultant", "vehicles") if k in m}
    return (ts(m["window_start"]), ts(m["window_end"]), m["window_s"], m.get("area", m["district"]), m["metric"],
            m.get("unit"), m["count"], m["min"], m["max"], m["sum"], m["mean"], m.get("excluded", 0),
            Jsonb(extra) if extra else None, m.get("level"), m.get("parent"), m.get("areas"))


def aqi_row(m: dict) -> tuple:
    # schema 2: "level" is the area's level; the AQI's category is in "aqi_level" (schema 1: "level")
    category = m["aqi_level"] if "aqi_level" in m else m["level"]
    return (ts(m["start"]), ts(m["end"]), m["period"], m.get("area", m["district"]), m["aqi"], category["vi"],
            category["en"], m["colour"], m.get("dominant"), m.get("beyond_index", False), Jsonb(m["sub_indices"]),
            Jsonb(m.get("nowcast")), Jsonb(m.get("concentrations") or m.get("values")),
            m.get("level") if "aqi_level" in m else None, m.get("parent"), m.get("areas"), m.get("worst_area"))


def alert_row(m: dict) -> tuple:
    return (m["alert_id"], m.get("area", m["district"]), m["rule"], m["subject"], m["state"], m["severity"],
            m.get("value"), m.get("peak"), m.get("threshold"), m.get("unit"), ts(m["opened_at"]),
            ts(m.get("first_window_start")), ts(m["updated_at"]), ts(m.get("resolved_at")), m.get("level"),
            m.get("parent"))


def late_row(m: dict, partition: int, offset: int) -> tuple:
    r = m["reading"]
    return (ts(r["ts"]), r["device_id"], m["district"], r.get("status", "measuring"), ts(m["watermark"]),
            m["late_by_s"], Jsonb(r), partition, offset)


def deadletter_row(m: dict, partition: int, offset: int) -> tuple:
    parts = m["mqtt_topic"].split("/")
    device = parts[3][:64] if len(parts) == 5 else None
    district = int(parts[2]) if len(parts) == 5 and parts[2].isdigit() and len(parts[2]) <= 6 else None
    return (ts(m["received_at"]), m["reason"], m["message"], m["mqtt_topic"], device, district,
            base64.b64decode(m["payload_b64"]), m["payload_bytes"], m["payload_truncated"], m["payload_sha256"],
            m.get("gateway"), bool(m.get("mqtt_dup", False)), partition, offset)


def security_row(m: dict, partition: int, offset: int) -> tuple:
    return (ts(m["window_end"]), ts(m["window_start"]), m.get("gateway") or "", m["client"], Jsonb(m["counts"]),
            m["total"], m["flood"], m.get("first_topic"), partition, offset)


def device_health_row(m: dict) -> tuple:
    return (ts(m["at"]), m["device_id"], m.get("district"), m["kind"], m["state"], m.get("skew_s"),
            m.get("tolerance_s"), m.get("gateway") or "")


def decode(value: bytes) -> dict:
    return orjson.loads(value)


_RANK = {"open": 0, "update": 1, "resolved": 2, "no_data": 2}


def dedupe_readings(rows: list[tuple]) -> list[tuple]:
    """One row per (device_id, ts, status) in a batch, metrics merged, deliveries added (ON CONFLICT
    DO UPDATE may not touch a row twice in one statement). Rows seen once are passed on as they are."""
    out: dict[tuple, tuple] = {}
    first_metric, deliveries = 8, len(READINGS.columns) - 1
    for row in rows:
        key = (row[1], row[0], row[4])
        seen = out.setdefault(key, row)
        if seen is not row:
            merged = list(seen)
            for i in range(first_metric, deliveries):
                if merged[i] is None and row[i] is not None:
                    merged[i] = row[i]
            merged[deliveries] += row[deliveries]
            out[key] = tuple(merged)
    return list(out.values()) if len(out) < len(rows) else rows


def dedupe_versions(rows: list[tuple], key: tuple[int, ...], rank) -> list[tuple]:
    """The fullest version of each row in a batch (ON CONFLICT DO UPDATE may not touch a row twice)."""
    out: dict[tuple, tuple] = {}
    for row in rows:
        k = tuple(row[i] for i in key)
        seen = out.get(k)
        if seen is None or rank(row) > rank(seen):
            out[k] = row
    return list(out.values())


def aggregate_rank(row: tuple) -> int:
    return row[6] + row[11]  # count + excluded


def aqi_rank(row: tuple) -> tuple[int, int]:
    return row[4], row[15] or 0  # aqi, areas


def dedupe_alerts(rows: list[tuple]) -> list[tuple]:
    """The latest message of each alert in a batch (by updated_at, then open < update < resolved)."""
    out: dict[str, tuple] = {}
    for row in rows:
        seen = out.get(row[0])
        if seen is None or (row[12], _RANK[row[4]]) >= (seen[12], _RANK[seen[4]]):
            out[row[0]] = row
    return list(out.values())
