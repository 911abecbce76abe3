"""Output messages of the streams worker (JSON with a schema version, keyed by district)."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson

from streams import aggregation
from streams.windows import ClosedWindow
from telemetry import SCHEMA_VERSION
from telemetry.metrics import metric


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def aggregate(w: ClosedWindow) -> bytes:
    m = metric(w.metric)
    return orjson.dumps({
        "v": SCHEMA_VERSION, "district": w.district, "metric": w.metric, "unit": m.unit if m else None,
        "window_s": w.size_s, "window_start": iso(w.start_ms), "window_end": iso(w.end_ms),
        **aggregation.summary(w.agg, w.metric), "excluded": w.excluded,
    })


def aqi(district: int, period: str, start_ms: int, end_ms: int, result: dict) -> bytes:
    return orjson.dumps({"v": SCHEMA_VERSION, "district": district, "period": period, "start": iso(start_ms),
                         "end": iso(end_ms), **result})


def late(district: int, reading: dict, watermark_ms: int) -> bytes:
    body = {k: v for k, v in reading.items() if k not in ("ts_ms", "received_ms")}
    return orjson.dumps({"v": SCHEMA_VERSION, "district": district, "reason": "late", "watermark": iso(watermark_ms),
                         "late_by_s": (watermark_ms - reading["ts_ms"]) / 1000, "reading": body})
