"""Sensor faults and hostile payloads, deterministic for a seed.

Faults (one per faulty device): stuck value, drift, spikes, dropouts, clock skew. Hostile payloads
replace a configurable share of messages; each kind is what the gateway must reject, with the
reason it should give.
"""

from __future__ import annotations

import random
from datetime import timedelta

FAULTS = ("stuck", "drift", "spikes", "dropouts", "clock_skew")

HOSTILE = {  # kind -> expected rejection reason
    "malformed_json": "malformed_json",
    "nan": "not_finite",
    "unknown_metric": "unknown_metric",
    "string_value": "wrong_type",
    "district_spoof": "district_mismatch",
    "unknown_device": "unknown_device",
    "deep_nesting": "too_deep",
    "not_utf8": "not_utf8",
}


class Fault:
    def __init__(self, kind: str | None, rng: random.Random) -> None:
        self.kind = kind
        self.rng = rng
        self.frozen: dict | None = None
        self.drift = 0.0
        self.skew = timedelta(minutes=rng.choice([-3, 2, 12])) if kind == "clock_skew" else timedelta(0)

    def apply(self, metrics: dict[str, float]) -> dict[str, float] | None:
        """The values the faulty sensor reports, or None for a dropped message."""
        if self.kind == "stuck":
            if self.frozen is None or self.rng.random() < 0.002:
                self.frozen = dict(metrics)
            return dict(self.frozen)
        if self.kind == "drift":
            self.drift += 0.002
            return {k: round(v * (1 + self.drift), 2) if k not in ("wind_direction",) else v for k, v in metrics.items()}
        if self.kind == "spikes" and self.rng.random() < 0.02:
            return {k: round(v * 8, 1) for k, v in metrics.items()}  # may exceed the plausible range
        if self.kind == "dropouts" and self.rng.random() < 0.1:
            return None
        return metrics


def pick_fault(rng: random.Random, share: float) -> str | None:
    return rng.choice(FAULTS) if rng.random() < share else None


def hostile_payload(kind: str, ts_iso: str) -> bytes:
    if kind == "malformed_json":
        return b'{"ts": "' + ts_iso.encode() + b'", "metrics": {"pm2_5": 12,'
    if kind == "nan":
        return b'{"ts": "' + ts_iso.encode() + b'", "metrics": {"pm2_5": NaN}}'
    if kind == "unknown_metric":
        return b'{"ts": "' + ts_iso.encode() + b'", "metrics": {"radon": 3.2}}'
    if kind == "string_value":
        return b'{"ts": "' + ts_iso.encode() + b'", "metrics": {"pm2_5": "high"}}'
    if kind == "deep_nesting":
        return b"[" * 200 + b"]" * 200
    if kind == "not_utf8":
        return b'{"ts": "\xff\xfe", "metrics": {}}'
    return b'{"ts": "' + ts_iso.encode() + b'", "metrics": {"pm2_5": 10}}'  # spoof / unknown device: valid body
