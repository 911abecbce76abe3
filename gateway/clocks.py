"""Device clock health: per device, how far the event time of its readings is from their reception.

A device's clock is judged per interval from the readings the gateway accepted:
- **fast** when a reading claims a time more than `tolerance_s` after its reception (no network
  delay or buffering explains a reading from the future);
- **slow** when even its freshest reading of the interval lags its reception by more than
  `tolerance_s` (a device sending a buffered backlog still sends live readings, whose lag is small);
- **ok** otherwise.
A change of state is published as a device-health event (`citysense.device-health.v1`, docs/contracts.md),
kept only once Kafka acknowledged it; readings keep the device's own time (the streams' watermark does
not trust it: docs/streams.md). Memory: one entry per device seen in the interval and one per device
currently skewed — both bounded by the registry, since only accepted readings are observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from telemetry import SCHEMA_VERSION


@dataclass(slots=True)
class Spread:
    lead_max_s: float  # largest (event time - reception) of the interval
    lag_min_s: float  # smallest (reception - event time) of the interval
    district: int


class ClockWatch:
    def __init__(self, tolerance_s: float, gateway_id: str) -> None:
        self.tolerance_s = tolerance_s
        self.gateway_id = gateway_id
        self.interval: dict[str, Spread] = {}
        self.skewed: dict[str, str] = {}  # device -> "fast" | "slow", as last reported

    def observe(self, device_id: str, district: int, ts: datetime, received_at: datetime) -> None:
        lead = (ts - received_at).total_seconds()
        spread = self.interval.get(device_id)
        if spread is None:
            self.interval[device_id] = Spread(lead, -lead, district)
        else:
            if lead > spread.lead_max_s:
                spread.lead_max_s = lead
            if -lead < spread.lag_min_s:
                spread.lag_min_s = -lead

    def judge(self, spread: Spread) -> tuple[str, float]:
        if spread.lead_max_s > self.tolerance_s:
            return "fast", spread.lead_max_s
        if spread.lag_min_s > self.tolerance_s:
            return "slow", -spread.lag_min_s
        return "ok", spread.lead_max_s if spread.lead_max_s > 0 else -spread.lag_min_s

    def changes(self, now: datetime) -> list[tuple[str, str, bytes]]:
        """Close the interval: (device, new state, event bytes) for every device whose state changed.
        Call `reported(device, state)` once Kafka acknowledged an event."""
        out = []
        for device_id, spread in self.interval.items():
            state, skew = self.judge(spread)
            if state != self.skewed.get(device_id, "ok"):
                out.append((device_id, state, orjson.dumps({
                    "v": SCHEMA_VERSION, "kind": "clock_skew", "device_id": device_id, "district": spread.district,
                    "state": state, "skew_s": round(skew, 3), "tolerance_s": self.tolerance_s, "at": now,
                    "gateway": self.gateway_id}, option=orjson.OPT_UTC_Z)))
        self.interval = {}
        return out

    def reported(self, device_id: str, state: str) -> None:
        if state == "ok":
            self.skewed.pop(device_id, None)
        else:
            self.skewed[device_id] = state
