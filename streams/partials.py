"""Partials: what an area sends to the area that rolls it up (topic `<prefix>.rollup-partials.v1`,
keyed by the parent's code; internal to streams).

- a **window** partial is one closed window of one metric of the child area, as its mergeable
  running aggregate (count, sum, min, max and, per metric, the energy sum, the wind vector sums or
  the vehicle-weighted speed sums: streams/aggregation.py) with its excluded count;
- an **aqi** partial is one hourly or daily VN_AQI of the child area, with the commune it comes
  from (`worst_area`: the child itself for a commune, its worst commune for a group).

A child sends each window and each AQI once (a replay sends the same bytes again): the parent keeps
one partial per child, so a repeat changes nothing.
"""

from __future__ import annotations

import orjson

from streams.windows import ClosedWindow
from telemetry import OUTPUT_SCHEMA_VERSION


def window(child: int, parent: int, w: ClosedWindow) -> bytes:
    return orjson.dumps({"v": OUTPUT_SCHEMA_VERSION, "kind": "window", "area": child, "parent": parent,
                         "metric": w.metric, "window_s": w.size_s, "start_ms": w.start_ms, "agg": w.agg,
                         "excluded": w.excluded})


def aqi(child: int, parent: int, period: str, start_ms: int, end_ms: int, result: dict) -> bytes:
    result = {**result, "worst_area": result.get("worst_area", child)}
    result.pop("areas", None)
    return orjson.dumps({"v": OUTPUT_SCHEMA_VERSION, "kind": "aqi", "area": child, "parent": parent,
                         "period": period, "start_ms": start_ms, "end_ms": end_ms, "result": result})


def decode(value: bytes) -> dict | None:
    """A partial, or None when it is not one this version understands."""
    try:
        p = orjson.loads(value)
        if p.get("kind") == "window":
            int(p["area"]), int(p["parent"]), str(p["metric"]), int(p["window_s"]), int(p["start_ms"])
            if not isinstance(p["agg"], dict) or "n" not in p["agg"]:
                return None
            return p
        if p.get("kind") == "aqi":
            int(p["area"]), int(p["parent"]), int(p["start_ms"]), int(p["end_ms"]), int(p["result"]["aqi"])
            return p if p["period"] in ("hour", "day") else None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return None
