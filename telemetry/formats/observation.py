"""What a format parser returns: raw values at one instant, before unit conversion and checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from telemetry.reading import Status
from telemetry.rejections import Reason, Rejected

MAX_EPOCH_MS = 32503680000000  # year 3000


@dataclass
class RawValue:
    value: object
    unit: str | None = None
    status: Status = Status.MEASURING


@dataclass
class Observation:
    ts: datetime
    values: dict[str, RawValue] = field(default_factory=dict)
    seq: int | None = None

    def add(self, name: str, raw: RawValue) -> None:
        if name in self.values:
            raise Rejected(Reason.DUPLICATE_METRIC, f"metric {name!r} appears twice for the same time")
        self.values[name] = raw


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_time(value: object, field_name: str) -> datetime:
    """ISO 8601 text with a UTC offset, or epoch milliseconds; returned in UTC."""
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            raise Rejected(Reason.WRONG_TYPE, f"{field_name} {value[:40]!r} is not an ISO 8601 time") from None
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise Rejected(Reason.WRONG_TYPE, f"{field_name} {value[:40]!r} has no UTC offset (Vietnam is +07:00)")
        return ts.astimezone(timezone.utc)
    if is_number(value):
        return epoch_ms(float(value), field_name)
    raise Rejected(Reason.WRONG_TYPE, f"{field_name} must be ISO 8601 text or epoch milliseconds")


def epoch_ms(ms: float, field_name: str) -> datetime:
    if not math.isfinite(ms):
        raise Rejected(Reason.NOT_FINITE, f"{field_name} is not finite")
    if ms > MAX_EPOCH_MS:
        raise Rejected(Reason.TS_FUTURE, f"{field_name} {ms:.0f} ms is beyond the year 3000")
    if ms < 0:
        raise Rejected(Reason.TS_TOO_OLD, f"{field_name} {ms:.0f} ms is before 1970")
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)


def parse_status(value: object, field_name: str = "status") -> Status:
    if isinstance(value, str):
        try:
            return Status(value)
        except ValueError:
            pass
    raise Rejected(Reason.WRONG_TYPE, f"{field_name} must be one of measuring, calibrating, error")


def parse_seq(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**63 - 1:
        raise Rejected(Reason.WRONG_TYPE, "seq must be a non-negative integer")
    return value
