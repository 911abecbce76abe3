"""Every rejection reason code, produced by a realistic bad message; validation never raises."""

from __future__ import annotations

import json

import pytest

from telemetry.rejections import Reason, Rejection
from telemetry.validation import Accepted, ValidationPolicy, validate

from .conftest import NOW, topic

TS = "2026-11-25T16:00:00+07:00"


def native(**over) -> bytes:
    body = {"ts": TS, "metrics": {"pm2_5": 41.3}}
    body.update(over)
    return json.dumps(body).encode()


CASES = [
    ("not_utf8", topic(), b'{"ts": "\xff\xfe", "metrics": {}}'),
    ("malformed_json", topic(), b'{"ts": 1, "metrics": {'),
    ("malformed_json", topic(), b"pm2_5=41.3"),
    ("payload_too_large", topic(), b'{"ts": 1, "metrics": {"pm2_5": 1}, "pad": "' + b"x" * 70_000 + b'"}'),
    ("too_deep", topic(), b"[" * 50 + b"]" * 50),
    ("too_deep", topic(), b"[" * 60_000),  # a JSON bomb stops at the recursion limit
    ("bad_topic", "citysense/v1/288/aq-288-01", native()),
    ("bad_topic", "citysense/v1/abc/aq-288-01/telemetry", native()),
    ("bad_topic", "citysense/v1/288/a+b#/telemetry", native()),
    ("bad_topic", "other/v1/288/aq-288-01/telemetry", native()),
    ("unknown_device", topic("ghost-1"), native()),
    ("unknown_device", topic("old-288-09"), native()),
    ("district_mismatch", topic("aq-288-01", 290), native()),
    ("missing_field", topic(), b'{"metrics": {"pm2_5": 1}}'),
    ("missing_field", topic(), native(metrics={})),
    ("missing_field", topic(), b'{"hello": "world"}'),
    ("wrong_type", topic(), native(metrics={"pm2_5": "41.3"})),
    ("wrong_type", topic(), native(metrics={"pm2_5": True})),
    ("wrong_type", topic(), native(ts="2026-11-25T16:00:00")),  # no UTC offset
    ("wrong_type", topic(), native(ts="yesterday")),
    ("wrong_type", topic(), native(seq=-1)),
    ("wrong_type", topic(), native(status="sleeping")),
    ("wrong_type", topic(), b'"just a string"'),
    ("unknown_metric", topic(), native(metrics={"pm1": 3.0})),
    ("unknown_metric", topic(), native(metrics={"water_level": 120})),  # not an air-quality metric
    ("bad_unit", topic(), native(metrics={"pm2_5": 4}, units={"pm2_5": "ppm"})),
    ("bad_unit", topic(), native(metrics={"co": 4}, units={"co": "furlongs"})),
    ("not_finite", topic(), b'{"ts": "' + TS.encode() + b'", "metrics": {"pm2_5": NaN}}'),
    ("not_finite", topic(), b'{"ts": "' + TS.encode() + b'", "metrics": {"pm2_5": Infinity}}'),
    ("not_finite", topic(), b'{"ts": "' + TS.encode() + b'", "metrics": {"pm2_5": -Infinity}}'),
    ("not_finite", topic(), b'{"ts": "' + TS.encode() + b'", "metrics": {"pm2_5": 1e400}}'),
    ("out_of_range", topic(), native(metrics={"pm2_5": -5})),
    ("out_of_range", topic(), native(metrics={"pm2_5": 1e6})),
    ("out_of_range", topic(), b'{"ts": "' + TS.encode() + b'", "metrics": {"pm2_5": ' + b"9" * 20_000 + b"}}"),
    ("out_of_range", topic("tf-290-01", 290), native(metrics={"vehicles_car": -3})),
    ("ts_future", topic(), native(ts="2099-01-01T00:00:00+07:00")),
    ("ts_future", topic(), native(ts="2026-11-25T16:06:00+07:00")),  # 6 min ahead, skew is 5
    ("ts_too_old", topic(), native(ts="1970-01-01T00:00:00Z")),
    ("ts_too_old", topic(), native(ts=0)),
    ("ts_too_old", topic(), native(ts="2026-11-17T16:00:00+07:00")),  # 8 days old
    ("duplicate_metric", topic(), b'{"ts": "' + TS.encode() + b'", "metrics": {"pm2_5": 1, "pm2_5": 2}}'),
    ("duplicate_metric", topic(), json.dumps([
        {"bn": "aq-288-01:", "bt": 1795597200, "n": "pm2_5", "u": "ug/m3", "v": 1},
        {"n": "pm2_5", "u": "ug/m3", "v": 2}]).encode()),
]


@pytest.mark.parametrize(("reason", "mqtt_topic", "payload"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rejection_reason(registry, reason, mqtt_topic, payload):
    result = validate(mqtt_topic, payload, registry, received_at=NOW)
    assert isinstance(result, Rejection), result
    assert result.reason == Reason(reason), result.message
    assert result.message


class _BrokenRegistry:
    """A registry whose lookup fails the way a bug would: the only way to reach the catch-all."""

    def get(self, device_id):
        raise KeyError(device_id)


def test_a_contract_bug_is_a_processing_error_not_a_crash(caplog):
    result = validate(topic(), native(), _BrokenRegistry(), received_at=NOW)
    assert isinstance(result, Rejection), result
    assert result.reason is Reason.PROCESSING_ERROR
    assert "KeyError" in result.message
    assert any(r.exc_info for r in caplog.records), "the traceback is logged for whoever fixes the bug"


def test_every_reason_code_is_covered():
    # processing_error is produced only by a bug; the test above provokes one
    assert {Reason(c[0]) for c in CASES} | {Reason.PROCESSING_ERROR} == set(Reason)


def test_skew_and_age_are_configurable(registry):
    policy = ValidationPolicy(max_future_skew=__import__("datetime").timedelta(hours=1))
    result = validate(topic(), native(ts="2026-11-25T16:30:00+07:00"), registry, received_at=NOW, policy=policy)
    assert isinstance(result, Accepted)


def test_valid_native_is_accepted(registry):
    result = validate(topic(), native(seq=7), registry, received_at=NOW)
    assert isinstance(result, Accepted)
    [r] = result.readings
    assert (r.device_id, r.district, r.seq, r.metrics) == ("aq-288-01", 288, 7, {"pm2_5": 41.3})
    assert r.ts.isoformat() == "2026-11-25T09:00:00+00:00"
