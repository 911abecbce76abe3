"""The simulated province: fleet composition, realistic rhythms, determinism, classified messages."""

from datetime import datetime, timedelta, timezone

from simulators.fleet import build_fleet, load_fleet
from simulators.province import Province, SimConfig
from simulators.signals import DeviceSignal, traffic_level
from telemetry.districts import DistrictRegistry
from telemetry.metrics import SensorKind
from telemetry.validation import Accepted, validate

LOCAL = timezone(timedelta(hours=7))


def test_fleet_covers_every_district_and_kind_with_more_in_cities():
    fleet = build_fleet()
    per_district = {d.code: [x for x in fleet if x.district == d.code] for d in DistrictRegistry.default()}
    assert all(per_district.values())
    assert {x.kind for x in fleet} == set(SensorKind)
    assert len(per_district[288]) > len(per_district[291]) and len(per_district[290]) > len(per_district[300])
    assert any(x.zone and x.zone.value == "special" for x in fleet)
    assert all(x.flood_threshold_cm for x in fleet if x.kind is SensorKind.WATER_LEVEL)
    assert {x.road for x in fleet if x.road} >= {"QL5", "QL18", "QL37", "QL38", "QL10"}
    assert len(load_fleet(500)) == 500


def test_rush_hours_and_quiet_nights():
    day = datetime(2026, 11, 24, tzinfo=LOCAL)  # a Tuesday
    rush = traffic_level(day.replace(hour=7, minute=30))
    evening = traffic_level(day.replace(hour=17, minute=30))
    night = traffic_level(day.replace(hour=3))
    assert rush > 3 * night and evening > 3 * night
    assert traffic_level(datetime(2026, 11, 29, 7, 30, tzinfo=LOCAL)) < rush  # Sunday


def test_winter_pm25_is_worse_at_night_than_in_the_afternoon():
    aq = next(d for d in build_fleet() if d.kind is SensorKind.AIR_QUALITY)
    signal = DeviceSignal(aq, seed=1)
    night = [signal.metrics(datetime(2026, 12, 2, 4, m, tzinfo=LOCAL), 60)["pm2_5"] for m in range(30)]
    afternoon = [signal.metrics(datetime(2026, 12, 2, 15, m, tzinfo=LOCAL), 60)["pm2_5"] for m in range(30)]
    assert sum(night) > 1.3 * sum(afternoon)


def test_same_seed_same_messages_and_every_message_is_classified():
    fleet = build_fleet()
    start = datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc)
    end = start + timedelta(hours=1)
    a = [(m.topic, m.payload) for m in Province(fleet, SimConfig(seed=3, hostile_share=0.05)).messages(start, end)]
    b = [(m.topic, m.payload) for m in Province(fleet, SimConfig(seed=3, hostile_share=0.05)).messages(start, end)]
    assert a == b and len(a) > 3000
    msgs = list(Province(fleet, SimConfig(seed=3, hostile_share=0.05)).messages(start, end))
    hostile = [m for m in msgs if m.kind != "valid"]
    assert 0.03 < len(hostile) / len(msgs) < 0.07
    for m in hostile:
        assert not isinstance(validate(m.topic, m.payload, fleet, received_at=end), Accepted), m.kind
    formats = {validate(m.topic, m.payload, fleet, received_at=end).format for m in msgs[:2000] if m.kind == "valid"
               and isinstance(validate(m.topic, m.payload, fleet, received_at=end), Accepted)}
    assert {f.value for f in formats} == {"native", "senml", "ngsi-ld"}
