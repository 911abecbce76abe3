"""Why a message was rejected: a machine-readable reason code plus a human message (a value, not a crash)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    NOT_UTF8 = "not_utf8"
    MALFORMED_JSON = "malformed_json"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    TOO_DEEP = "too_deep"
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    DISTRICT_MISMATCH = "district_mismatch"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_METRIC = "unknown_metric"
    BAD_UNIT = "bad_unit"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    TS_FUTURE = "ts_future"
    TS_TOO_OLD = "ts_too_old"
    DUPLICATE_METRIC = "duplicate_metric"
    # The catch-all: the contracts raised something they did not expect (a bug to fix; never seen in
    # the property tests). The message names the exception.
    PROCESSING_ERROR = "processing_error"


# Reasons that the cyber-security monitoring centre wants to hear about (gateway's security events).
SECURITY_REASONS = frozenset({
    Reason.UNKNOWN_DEVICE, Reason.DISTRICT_MISMATCH, Reason.BAD_TOPIC,
    Reason.PAYLOAD_TOO_LARGE, Reason.TOO_DEEP, Reason.NOT_UTF8, Reason.MALFORMED_JSON,
})


@dataclass(frozen=True)
class Rejection:
    reason: Reason
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "message": self.message}


class Rejected(Exception):
    """Raised inside the parsers; `validate()` turns it into a `Rejection` value."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.rejection = Rejection(reason, message)
