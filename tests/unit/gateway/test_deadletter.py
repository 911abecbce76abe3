"""Dead-letter records keep the reason and the original bytes, safely encoded and bounded."""

import base64
import json
from datetime import datetime, timezone

from gateway.deadletter import KEEP_BYTES, deadletter_key, deadletter_record
from telemetry.rejections import Reason, Rejection


def test_record_keeps_reason_and_bytes():
    payload = b"\xff\xfe not utf-8"
    rec = json.loads(deadletter_record(Rejection(Reason.NOT_UTF8, "bad"), "citysense/v1/288/x/telemetry", payload,
                                       datetime(2026, 1, 1, tzinfo=timezone.utc), "gw1"))
    assert rec["reason"] == "not_utf8" and base64.b64decode(rec["payload_b64"]) == payload
    assert rec["received_at"] == "2026-01-01T00:00:00Z" and rec["payload_truncated"] is False


def test_large_payload_is_truncated_with_size_and_hash():
    payload = b"x" * (KEEP_BYTES * 3)
    rec = json.loads(deadletter_record(Rejection(Reason.PAYLOAD_TOO_LARGE, "big"), "t", payload,
                                       datetime.now(timezone.utc), "gw1"))
    assert len(base64.b64decode(rec["payload_b64"])) == KEEP_BYTES
    assert rec["payload_bytes"] == len(payload) and rec["payload_truncated"] and len(rec["payload_sha256"]) == 64


def test_key_is_the_district_segment():
    assert deadletter_key("citysense/v1/288/x/telemetry") == b"288"
    assert deadletter_key("citysense/v1/abc/x/telemetry") == b"unknown"


def test_a_broker_redelivery_is_marked():
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = json.loads(deadletter_record(Rejection(Reason.NOT_UTF8, "bad"), "t", b"\xff", at, "gw1"))
    again = json.loads(deadletter_record(Rejection(Reason.NOT_UTF8, "bad"), "t", b"\xff", at, "gw1", mqtt_dup=True))
    assert first["mqtt_dup"] is False and again["mqtt_dup"] is True
    assert {k: v for k, v in first.items() if k != "mqtt_dup"} == {k: v for k, v in again.items() if k != "mqtt_dup"}
