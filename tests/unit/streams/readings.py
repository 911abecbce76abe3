"""Builders of reading dicts as the worker sees them after decoding."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc)


def r(second: float, metrics: dict, device: str = "aq-288-01", district: int = 288, kind: str = "air_quality",
      status: str = "measuring", received_delay_s: float = 1.0) -> dict:
    ts = T0 + timedelta(seconds=second)
    rec = ts + timedelta(seconds=received_delay_s)
    return {"v": 1, "device_id": device, "district": district, "kind": kind, "ts": ts.isoformat(),
            "received_at": rec.isoformat(), "seq": None, "status": status, "metrics": metrics, "format": "native",
            "ts_ms": int(ts.timestamp() * 1000), "received_ms": int(rec.timestamp() * 1000)}


def ms(second: float) -> int:
    return int((T0 + timedelta(seconds=second)).timestamp() * 1000)
