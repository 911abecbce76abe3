"""District and device registries, the metric catalogue, standards as data, and topics."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from telemetry import standards
from telemetry.devices import Device, DeviceRegistry, sample_registry
from telemetry.districts import DistrictRegistry
from telemetry.metrics import SensorKind, catalogue, metrics_of
from telemetry.rejections import Rejected
from telemetry.topics import KafkaTopics, district_key, parse_uplink, shared_filter, uplink_topic


def test_hai_duong_has_twelve_district_level_units():
    reg = DistrictRegistry.default()
    assert len(reg) == 12
    assert [d.code for d in reg] == [288, *range(290, 301)]  # 289 is unused
    assert reg.get(288).name == "Thành phố Hải Dương" and reg.get(292).kind == "town"
    assert {d.kind for d in reg} == {"city", "town", "district"}
    assert sum(d.kind == "city" for d in reg) == 2


def test_districts_are_configuration(tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text("code,name,kind,lat,lon\n10507,Phường Hải Dương,ward,20.94,106.33\n", encoding="utf-8")
    reg = DistrictRegistry.from_file(path)
    assert len(reg) == 1 and 10507 in reg and reg.get(10507).name == "Phường Hải Dương"


def test_device_registry_round_trip(tmp_path):
    reg = DeviceRegistry([
        Device(device_id="wl-294-01", district=294, kind="water_level", flood_threshold_cm=450, river="Thái Bình"),
        Device(device_id="nz-288-02", district=288, kind="noise", zone="special"),
    ])
    reg.write(tmp_path / "devices.json")
    again = DeviceRegistry.from_file(tmp_path / "devices.json")
    assert [d.model_dump() for d in again] == [d.model_dump() for d in reg]
    assert again.get("wl-294-01").flood_threshold_cm == 450 and "nope" not in again


def test_device_registry_refuses_duplicates_and_bad_ids():
    with pytest.raises(ValueError):
        DeviceRegistry([Device(device_id="a", district=1, kind="noise")] * 2)
    with pytest.raises(ValueError):
        Device(device_id="bad/id#", district=1, kind="noise")


def test_sample_registry_covers_every_district_and_kind():
    reg = sample_registry()
    assert {d.district for d in reg} == {d.code for d in DistrictRegistry.default()}
    assert {d.kind for d in reg} == set(SensorKind)


def test_catalogue_has_the_required_metrics():
    required = {"pm2_5", "pm10", "co", "no2", "so2", "o3", "temperature", "humidity", "rainfall", "wind_speed",
                "wind_direction", "noise_laeq", "water_level", "vehicles_motorbike", "vehicles_car",
                "vehicles_truck_bus", "avg_speed", "occupancy"}
    assert required <= set(catalogue())
    assert catalogue()["pm2_5"].unit == "µg/m³" and catalogue()["noise_laeq"].unit == "dB(A)"
    assert "noise_laeq" in metrics_of(SensorKind.NOISE) and "pm2_5" not in metrics_of(SensorKind.TRAFFIC)


def test_standards_as_data():
    assert standards.air_limit("no2", "1h") == 200
    assert standards.air_limit("pm2_5", "24h", datetime(2025, 6, 1)) == 50
    assert standards.air_limit("pm2_5", "24h", datetime(2026, 6, 1)) == 45
    assert standards.air_limit("pm10", "1h") is None
    # 20:59 local is day, 21:00 local is night (UTC+7)
    assert standards.noise_limit("normal", datetime(2026, 1, 1, 13, 59, tzinfo=timezone.utc)) == 70
    assert standards.noise_limit("normal", datetime(2026, 1, 1, 14, 0, tzinfo=timezone.utc)) == 55
    assert standards.noise_limit("special", datetime(2026, 1, 1, 23, 0, tzinfo=timezone.utc)) == 55  # 06:00 local
    assert standards.noise_limit("special", datetime(2026, 1, 1, 22, 59, tzinfo=timezone.utc)) == 45


def test_topics():
    t = uplink_topic(288, "aq-288-01")
    assert t == "citysense/v1/288/aq-288-01/telemetry"
    up = parse_uplink(t)
    assert (up.district, up.device_id) == (288, "aq-288-01")
    assert shared_filter("gw") == "$share/gw/citysense/v1/+/+/telemetry"
    assert parse_uplink("hd/v1/290/x/telemetry", root="hd").district == 290
    with pytest.raises(Rejected):
        parse_uplink("citysense/v1/288/+/telemetry")
    assert district_key(288) == b"288"
    topics = KafkaTopics("test")
    assert topics.readings == "test.readings.v1" and len(set(topics.all())) == 9
    assert topics.device_health == "test.device-health.v1"
