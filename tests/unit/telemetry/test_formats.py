"""Payload formats: native, SenML (RFC 8428) and the FIWARE Smart Data Models' own examples."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from telemetry.reading import PayloadFormat, Status
from telemetry.rejections import Rejection
from telemetry.validation import Accepted, validate

from .conftest import NOW, topic

FIXTURES = Path(__file__).parent / "fixtures"


def ok(result) -> Accepted:
    assert isinstance(result, Accepted), result
    return result


def test_native_with_units_and_epoch_ms(registry):
    payload = {"ts": 1795597200000, "seq": 3, "metrics": {"co": 1.2, "no2": 40, "pm2_5": 20},
               "units": {"co": "mg/m3", "no2": "ppb"}}
    [r] = ok(validate(topic(), json.dumps(payload).encode(), registry, received_at=NOW)).readings
    assert r.ts == datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    assert r.metrics["co"] == pytest.approx(1200.0)
    assert r.metrics["no2"] == pytest.approx(40 * 46.0055 / 24.45)
    assert r.format is PayloadFormat.NATIVE


def test_native_status_per_metric_splits_readings(registry):
    payload = {"ts": "2026-11-25T16:00:00+07:00", "metrics": {"pm2_5": 20, "pm10": 30, "o3": 50},
               "status": {"pm10": "calibrating", "o3": "error"}}
    readings = ok(validate(topic(), json.dumps(payload).encode(), registry, received_at=NOW)).readings
    by_status = {r.status: r.metrics for r in readings}
    assert by_status == {Status.MEASURING: {"pm2_5": 20}, Status.CALIBRATING: {"pm10": 30}, Status.ERROR: {"o3": 50}}
    assert [r.counts for r in readings].count(True) == 1


def test_native_status_for_all(registry):
    payload = {"ts": "2026-11-25T16:00:00+07:00", "metrics": {"pm2_5": 20}, "status": "calibrating"}
    [r] = ok(validate(topic(), json.dumps(payload).encode(), registry, received_at=NOW)).readings
    assert r.status is Status.CALIBRATING and not r.counts


def test_senml_pack_with_base_fields_and_times(registry):
    pack = [
        {"bn": "urn:dev:mac:0024befffe804ff1:", "bt": 1795597140, "bu": "Cel", "n": "temperature", "v": 23.1},
        {"n": "humidity", "u": "%RH", "v": 67},
        {"n": "temperature", "t": 60, "v": 23.4},
        {"n": "wind_speed", "u": "km/h", "t": 60, "v": 18},
    ]
    result = ok(validate(topic("wx-288-01"), json.dumps(pack).encode(), registry, received_at=NOW))
    assert result.format is PayloadFormat.SENML
    by_ts = {r.ts.strftime("%H:%M"): r.metrics for r in result.readings}
    assert by_ts == {"08:59": {"temperature": 23.1, "humidity": 67.0},
                     "09:00": {"temperature": 23.4, "wind_speed": pytest.approx(5.0)}}


def test_senml_relative_time(registry):
    pack = [{"n": "noise_laeq", "u": "dB", "v": 61.5, "t": -30}]
    [r] = ok(validate(topic("nz-288-01"), json.dumps(pack).encode(), registry, received_at=NOW)).readings
    assert (NOW - r.ts).total_seconds() == 30


def test_senml_string_value_is_wrong_type(registry):
    pack = [{"n": "pm2_5", "vs": "high", "bt": 1795597200}]
    result = validate(topic(), json.dumps(pack).encode(), registry, received_at=NOW)
    assert isinstance(result, Rejection) and result.reason == "wrong_type"


SPEC_2016_AIR = datetime(2016, 3, 15, 12, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("shape", ["normalized", "keyvalues"])
def test_ngsi_air_quality_spec_examples(registry, shape):
    payload = (FIXTURES / f"AirQualityObserved.{shape}.jsonld").read_bytes()
    result = ok(validate(topic(), payload, registry, received_at=SPEC_2016_AIR))
    assert result.format is PayloadFormat.NGSI_LD
    [r] = result.readings
    m = r.metrics
    assert m["no2"] == 69 and m["so2"] == 11 and m["temperature"] == 12.2
    assert m["humidity"] == pytest.approx(54.0)  # fraction 0.54 -> %
    assert m["rainfall"] == 0 and m["wind_speed"] == 0.64
    if shape == "normalized":
        assert m["co"] == 500_000  # 500 mg/m³ (unitCode GP) -> µg/m³
        assert r.ts == datetime(2016, 3, 15, 12, 0, tzinfo=timezone.utc)  # end of the interval
    else:
        assert m["co"] == 500
        assert r.ts == datetime(2016, 3, 15, 11, 0, tzinfo=timezone.utc)  # no offset: NGSI times are UTC


@pytest.mark.parametrize("shape", ["normalized", "keyvalues"])
def test_ngsi_traffic_flow_spec_examples(registry, shape):
    payload = (FIXTURES / f"TrafficFlowObserved.{shape}.jsonld").read_bytes()
    at = datetime(2016, 12, 7, 11, 16, tzinfo=timezone.utc)
    [r] = ok(validate(topic("tf-290-01", 290), payload, registry, received_at=at)).readings
    assert r.metrics == {"avg_speed": 52.6, "occupancy": pytest.approx(76.0), "vehicles_total": 197.0}
    assert r.ts == datetime(2016, 12, 7, 11, 15, tzinfo=timezone.utc)


def test_ngsi_traffic_vehicle_type_goes_to_its_class(registry):
    entity = json.loads((FIXTURES / "TrafficFlowObserved.keyvalues.jsonld").read_text())
    entity["vehicleType"] = "motorcycle"
    at = datetime(2016, 12, 7, 11, 16, tzinfo=timezone.utc)
    [r] = ok(validate(topic("tf-290-01", 290), json.dumps(entity).encode(), registry, received_at=at)).readings
    assert r.metrics["vehicles_motorbike"] == 197 and "vehicles_total" not in r.metrics


@pytest.mark.parametrize("shape", ["normalized", "keyvalues"])
def test_ngsi_noise_spec_examples(registry, shape):
    payload = (FIXTURES / f"NoiseLevelObserved.{shape}.jsonld").read_bytes()
    at = datetime(2016, 12, 28, 12, 1, tzinfo=timezone.utc)
    [r] = ok(validate(topic("nz-288-01"), payload, registry, received_at=at)).readings
    assert r.metrics == {"noise_laeq": 67.8}
    assert r.ts == datetime(2016, 12, 28, 12, 0, tzinfo=timezone.utc)


def test_ngsi_batch_of_entities(registry):
    entity = json.loads((FIXTURES / "NoiseLevelObserved.keyvalues.jsonld").read_text())
    second = dict(entity, LAeq=70.1, dateObservedTo={"@type": "DateTime", "@value": "2016-12-28T12:30:00Z"})
    at = datetime(2016, 12, 28, 12, 31, tzinfo=timezone.utc)
    readings = ok(validate(topic("nz-288-01"), json.dumps([entity, second]).encode(), registry, received_at=at)).readings
    assert [r.metrics["noise_laeq"] for r in readings] == [67.8, 70.1]


def test_ngsi_entity_without_kept_attributes(registry):
    entity = {"id": "urn:x", "type": "NoiseLevelObserved", "LAmax": 90, "dateObservedTo": "2026-11-25T09:00:00Z"}
    result = validate(topic("nz-288-01"), json.dumps(entity).encode(), registry, received_at=NOW)
    assert isinstance(result, Rejection) and result.reason == "missing_field"


@pytest.mark.parametrize("payload, says", [
    (b"[]", "payload is an empty array"),
    (b'[{"x": 1}]', "an array that is not SenML"),
    (b'"hello"', "a JSON string"),
    (b"42", "a JSON number"),
    (b"true", "a JSON boolean"),
])
def test_payloads_of_no_format_say_what_they_are(registry, payload, says):
    result = validate(topic(), payload, registry, received_at=NOW)
    assert isinstance(result, Rejection) and result.reason == "wrong_type" and says in result.message
