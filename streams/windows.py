"""Event-time tumbling windows per district, with a watermark and allowed lateness (pure logic).

One `DistrictState` (a plain dict, kept in the state topic: streams/state_store.py) holds, for one
district: the largest progress seen, the last Kafka offset applied (so a replay after a crash is
skipped, not counted twice), the open windows' running aggregates, and what the alert rules and
AQI need.

- A window [start, start + size) closes when the watermark (max progress − allowed lateness)
  reaches its end; it is emitted once, then dropped from the state.
- A reading whose smallest window has already closed is late: it is counted and reported, not
  aggregated (in no window, so every window size is made of the same readings).
- **Device clocks:** a reading moves the watermark by `min(event time, reception time)` — the
  gateway stamps the reception on every reading and its clock is the platform's. A device whose
  clock runs ahead cannot drag its district's watermark past real time (its own readings wait in
  their windows until real time reaches them), so the other devices' readings are never late
  because of it; a device whose clock runs behind only makes its own readings late. A backlog (old
  readings received now) moves it by their event time, as before. Replays give the same result:
  both times are in the reading.
- Readings whose status is not `measuring` move time forward but count in no aggregate.
- A reading seen again (same device, same event time, same metrics: a gateway that was killed
  before its MQTT acks re-sends what it had already written to Kafka) is counted once, as storage
  keeps one row per device and time; its new metrics, if any, are added (storage merges them too).
  Each device remembers the event times of its readings until their smallest window has closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from streams import aggregation
from telemetry.metrics import TRAFFIC_COUNTS


@dataclass(frozen=True)
class WindowConfig:
    sizes_s: tuple[int, ...] = (60, 900)
    lateness_s: float = 30.0


# Metrics also aggregated per device (smallest window) for the alert rules that depend on the
# device: its noise zone, its gauge's flood threshold, congestion on its road.
DEVICE_METRICS = frozenset({"noise_laeq", "water_level", "avg_speed", "occupancy"})


@dataclass
class ClosedWindow:
    district: int
    metric: str
    size_s: int
    start_ms: int
    agg: dict
    excluded: int
    device: str | None = None  # set for the per-device windows of DEVICE_METRICS

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.size_s * 1000


@dataclass
class BatchResult:
    closed: list[ClosedWindow] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)
    applied: int = 0
    skipped_replayed: int = 0
    duplicates: int = 0
    excluded_not_measuring: int = 0


def new_state() -> dict:
    return {"max_ts": None, "last_offset": -1, "windows": {}, "devices": {}, "late": 0}


def watermark_ms(state: dict, cfg: WindowConfig) -> int | None:
    if state["max_ts"] is None:
        return None
    return state["max_ts"] - int(cfg.lateness_s * 1000)


def _key(metric: str, size_s: int, start_ms: int) -> str:
    return f"{metric}|{size_s}|{start_ms}"


def _weight(reading: dict) -> float | None:
    counts = [reading["metrics"][m] for m in TRAFFIC_COUNTS if m in reading["metrics"]]
    return float(sum(counts)) if counts else None


def _unseen(device: dict, ts: int, metrics: dict) -> dict:
    """The metrics of this reading the device has not delivered yet for this event time."""
    seen = device.get("seen")
    if seen is None:
        seen = device["seen"] = {}
    key = str(ts)  # the state goes through JSON: string keys
    done = seen.get(key)
    if done is None:
        seen[key] = list(metrics)
        return metrics
    fresh = {m: v for m, v in metrics.items() if m not in done}
    done.extend(fresh)
    return fresh


def apply(state: dict, district: int, items: Iterable[tuple[int, dict]], cfg: WindowConfig) -> BatchResult:
    """Apply readings (offset, reading dict with ts_ms) in offset order; close what the watermark passed."""
    res = BatchResult()
    smallest = min(cfg.sizes_s)
    for offset, r in items:
        if offset <= state["last_offset"]:
            res.skipped_replayed += 1
            continue
        state["last_offset"] = offset
        ts = r["ts_ms"]
        wm = watermark_ms(state, cfg)
        small_end = ts - ts % (smallest * 1000) + smallest * 1000
        if wm is not None and small_end <= wm:
            state["late"] += 1
            res.late.append({"reading": r, "watermark_ms": wm})
            continue
        device = state["devices"].get(r["device_id"])
        if device is None:  # not setdefault: no dict built per reading on this hot path
            device = state["devices"][r["device_id"]] = {"last_ms": ts, "win": {}}
        elif ts > device["last_ms"]:
            device["last_ms"] = ts
        metrics = _unseen(device, ts, r["metrics"])
        if not metrics:
            res.duplicates += 1
            continue
        progress = ts if ts <= r["received_ms"] else r["received_ms"]
        if state["max_ts"] is None or progress > state["max_ts"]:
            state["max_ts"] = progress
        measuring = r.get("status", "measuring") == "measuring"
        weight = _weight(r) if r.get("kind") == "traffic" else None
        for size in cfg.sizes_s:
            start = ts - ts % (size * 1000)
            for metric, value in metrics.items():
                k = _key(metric, size, start)
                w = state["windows"].get(k)
                if w is None:
                    w = state["windows"][k] = {"agg": aggregation.new(), "excluded": 0}
                if measuring:
                    aggregation.add(w["agg"], metric, value, weight)
                else:
                    w["excluded"] += 1
        if measuring:
            start = ts - ts % (smallest * 1000)
            for metric in DEVICE_METRICS.intersection(metrics):
                k = _key(metric, smallest, start)
                agg = device["win"].get(k)
                if agg is None:
                    agg = device["win"][k] = aggregation.new()
                aggregation.add(agg, metric, metrics[metric], weight)
        else:
            res.excluded_not_measuring += 1
        res.applied += 1
    res.closed = close_due(state, district, cfg)
    return res


def prune_devices(state: dict, cfg: WindowConfig, watermark: int, gone: set[str] = frozenset()) -> int:
    """Forget devices that can no longer affect a window: silent for longer than the largest window
    plus the lateness, with nothing open (no per-device window, no alert about them), and devices
    in `gone` (left the registry; their alerts were ended). Keeps a district's state bounded by the
    devices that are live in it. Returns how many were dropped."""
    horizon = watermark - (max(cfg.sizes_s) * 1000 + int(cfg.lateness_s * 1000))
    alerted = {key.split("|", 1)[1] for key in state.get("alerts", {})}
    drop = [d for d, dev in state["devices"].items()
            if d in gone or (dev["last_ms"] < horizon and not dev["win"] and d not in alerted)]
    for device_id in drop:
        del state["devices"][device_id]
    return len(drop)


def close_due(state: dict, district: int, cfg: WindowConfig) -> list[ClosedWindow]:
    wm = watermark_ms(state, cfg)
    if wm is None:
        return []
    closed = []
    for k in list(state["windows"]):
        metric, size, start = k.split("|")
        size_s, start_ms = int(size), int(start)
        if start_ms + size_s * 1000 <= wm:
            w = state["windows"].pop(k)
            closed.append(ClosedWindow(district, metric, size_s, start_ms, w["agg"], w["excluded"]))
    smallest_ms = min(cfg.sizes_s) * 1000
    for device_id, device in state["devices"].items():
        seen = device.get("seen")
        if seen:  # a repeat of these would be late now: no need to remember them
            for ts in [t for t in seen if int(t) + smallest_ms - int(t) % smallest_ms <= wm]:
                del seen[ts]
        for k in list(device["win"]):
            metric, size, start = k.split("|")
            if int(start) + int(size) * 1000 <= wm:
                closed.append(ClosedWindow(district, metric, int(size), int(start), device["win"].pop(k), 0,
                                           device_id))
    closed.sort(key=lambda c: (c.start_ms, c.size_s, c.metric, c.device or ""))
    return closed
