"""Output messages of the streams worker: JSON with a schema version, keyed by area.

Every message names its area in the hierarchy — `area`, `level` (commune | group | city) and
`parent` (streams/places.py) — and keeps `district` (= `area`) for consumers of schema 1; it goes
in schema 3. A roll-up (group, city) also says how many child areas it holds (`areas`) and, for
AQI, which commune is the worst (`worst_area`).
"""

from __future__ import annotations

from datetime import datetime, timezone

import orjson

from streams import aggregation
from streams.windows import ClosedWindow
from telemetry import OUTPUT_SCHEMA_VERSION
from telemetry.metrics import metric


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _head(place: dict) -> dict:
    return {"v": OUTPUT_SCHEMA_VERSION, "district": place["area"], **place}


def aggregate(w: ClosedWindow, place: dict, areas: int | None = None) -> bytes:
    m = metric(w.metric)
    body = {**_head(place), "metric": w.metric, "unit": m.unit if m else None, "window_s": w.size_s,
            "window_start": iso(w.start_ms), "window_end": iso(w.end_ms),
            **aggregation.summary(w.agg, w.metric), "excluded": w.excluded}
    if areas is not None:
        body["areas"] = areas
    return orjson.dumps(body)


def aqi(place: dict, period: str, start_ms: int, end_ms: int, result: dict) -> bytes:
    """`aqi_level` is the AQI's category (schema 1 called it `level`, now the area's level)."""
    body = {k: v for k, v in result.items() if k != "level"}
    return orjson.dumps({**_head(place), "period": period, "start": iso(start_ms), "end": iso(end_ms), **body,
                         "aqi_level": result.get("level")})


def late(place: dict, reading: dict, watermark_ms: int) -> bytes:
    body = {k: v for k, v in reading.items() if k not in ("ts_ms", "received_ms")}
    return orjson.dumps({**_head(place), "reason": "late", "watermark": iso(watermark_ms),
                         "late_by_s": (watermark_ms - reading["ts_ms"]) / 1000, "reading": body})
