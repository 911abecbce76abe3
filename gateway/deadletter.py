"""Dead-letter records: what was rejected, why, and the original bytes (safely encoded)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import orjson

from telemetry import SCHEMA_VERSION
from telemetry.rejections import Rejection

KEEP_BYTES = 16 * 1024  # at most this much of the original payload is kept (with its size and hash)


def deadletter_record(rejection: Rejection, mqtt_topic: str, payload: bytes, received_at: datetime,
                      gateway_id: str, mqtt_dup: bool = False) -> bytes:
    """One record per message received (re-sent as the same bytes); `mqtt_dup`: a broker redelivery."""
    kept = payload[:KEEP_BYTES]
    return orjson.dumps({
        "v": SCHEMA_VERSION,
        "reason": rejection.reason.value,
        "message": rejection.message,
        "mqtt_topic": mqtt_topic[:512],
        "received_at": received_at,
        "payload_b64": base64.b64encode(kept).decode("ascii"),
        "payload_bytes": len(payload),
        "payload_truncated": len(kept) < len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "gateway": gateway_id,
        "mqtt_dup": mqtt_dup,
    }, option=orjson.OPT_UTC_Z)


def deadletter_key(mqtt_topic: str) -> bytes:
    """Key by the district segment of the topic when it has one, so storage can partition by it."""
    parts = mqtt_topic.split("/")
    if len(parts) >= 3 and parts[2].isdigit() and len(parts[2]) <= 6:
        return parts[2].encode()
    return b"unknown"
