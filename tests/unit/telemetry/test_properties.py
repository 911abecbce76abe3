"""Property-based tests: valid readings survive serialization; no input makes validation raise."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.metrics import SensorKind, catalogue, metrics_of
from telemetry.reading import PayloadFormat, Reading, Status
from telemetry.rejections import Reason, Rejection
from telemetry.validation import Accepted, validate

from .conftest import NOW, topic

aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=7))]))


@st.composite
def readings(draw):
    kind = draw(st.sampled_from(list(SensorKind)))
    names = draw(st.lists(st.sampled_from(metrics_of(kind)), min_size=1, unique=True))
    metrics = {}
    for n in names:
        m = catalogue()[n]
        metrics[n] = draw(st.floats(min_value=m.min, max_value=m.max, allow_nan=False, allow_infinity=False))
    return Reading(
        device_id=draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)),
        district=draw(st.integers(0, 999_999)),
        kind=kind,
        ts=draw(aware),
        received_at=draw(aware),
        seq=draw(st.none() | st.integers(0, 2**63 - 1)),
        status=draw(st.sampled_from(list(Status))),
        metrics=metrics,
        format=draw(st.sampled_from(list(PayloadFormat))),
    )


@given(readings())
@settings(max_examples=300)
def test_valid_reading_survives_serialization(reading):
    again = Reading.from_json(reading.to_json())
    assert again == reading
    assert again.ts == reading.ts and again.ts.tzinfo is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@given(st.binary(max_size=2000), st.text(max_size=80))
@settings(max_examples=400)
def test_arbitrary_bytes_never_raise(payload, mqtt_topic):
    from telemetry.devices import sample_registry

    result = validate(mqtt_topic, payload, sample_registry(), received_at=NOW)
    assert isinstance(result, (Accepted, Rejection))
    assert getattr(result, "reason", None) is not Reason.PROCESSING_ERROR, result


@given(json_values)
@settings(max_examples=400)
def test_arbitrary_json_never_raises(value):
    from telemetry.devices import sample_registry

    payload = json.dumps(value).encode()
    result = validate(topic(), payload, sample_registry(), received_at=NOW)
    assert isinstance(result, (Accepted, Rejection))
    assert getattr(result, "reason", None) is not Reason.PROCESSING_ERROR, result


@given(st.dictionaries(st.sampled_from(sorted(catalogue())) | st.text(max_size=8),
                       st.floats() | st.integers() | st.text(max_size=5) | st.none(), max_size=6),
       st.sampled_from(["ts", 1795597200000, "2026-11-25T16:00:00+07:00", None, -1, 1e30]),
       st.dictionaries(st.sampled_from(sorted(catalogue())), st.sampled_from(["ppm", "mg/m3", "K", "m", "x"]),
                       max_size=3))
@settings(max_examples=400)
def test_native_shaped_input_never_raises(metrics, ts, units):
    from telemetry.devices import sample_registry

    payload = json.dumps({"ts": ts, "metrics": metrics, "units": units}).encode()
    result = validate(topic(), payload, sample_registry(), received_at=NOW)
    assert isinstance(result, (Accepted, Rejection))
    assert getattr(result, "reason", None) is not Reason.PROCESSING_ERROR, result
    if isinstance(result, Accepted):
        for r in result.readings:
            assert Reading.from_json(r.to_json()) == r  # what validation accepts is a valid model
