"""The simulated province: fleet composition, realistic rhythms, determinism, classified messages."""

from datetime import datetime, timedelta, timezone

from simulators.fleet import build_fleet, legacy_fleet, load_fleet
from simulators.province import Province, SimConfig
from simulators.signals import DeviceSignal, traffic_level
from telemetry.areas import LEGACY_SET, AreaRegistry, Level
from telemetry.metrics import SensorKind
from telemetry.validation import Accepted, ValidationPolicy, validate

LOCAL = timezone(timedelta(hours=7))


AREAS = AreaRegistry.named()


def test_fleet_covers_every_commune_with_air_and_each_kind_where_it_belongs():
    fleet = build_fleet()
    communes = AREAS.communes()
    assert len(communes) == 114
    air = {x.district for x in fleet if x.kind is SensorKind.AIR_QUALITY}
    assert air == {c.code for c in communes}
    assert {x.kind for x in fleet} == set(SensorKind)
    per = {c.code: [x for x in fleet if x.district == c.code] for c in communes}
    wards = [c.code for c in communes if c.kind == "phường"]
    rural = [c.code for c in communes if c.kind == "xã" and AREAS.group_of(c.code).code not in (290, 292, 293, 295,
                                                                                                 306, 311, 312, 317)]
    def air_in(code: int) -> int:
        return sum(1 for x in per[code] if x.kind is SensorKind.AIR_QUALITY)

    assert min(map(air_in, wards)) >= 2 and max(map(air_in, rural)) == 1  # more in the urban wards
    assert all(any(x.kind is SensorKind.NOISE for x in per[w]) for w in wards)
    groups = {AREAS.group_of(x.district).code for x in fleet if x.kind is SensorKind.WEATHER}
    assert groups == {g.code for g in AREAS.at_level(Level.GROUP)}
    assert any(x.zone and x.zone.value == "special" for x in fleet)
    assert all(x.flood_threshold_cm for x in fleet if x.kind is SensorKind.WATER_LEVEL)
    assert {x.river for x in fleet if x.river} >= {"Cấm", "Lạch Tray", "Văn Úc", "Thái Bình", "Kinh Thầy", "Luộc", "Sặt"}
    assert {x.road for x in fleet if x.road} >= {"QL5", "QL10", "QL18", "QL37", "QL38", "QL17B", "CT.04"}
    # each device stands inside its own commune's boundary (two communes share one in the source data:
    # Cẩm Giang and Cẩm Giàng)
    assert all(x.district in [a.code for a in AREAS.locate(x.lat, x.lon)] for x in fleet)
    assert len(load_fleet(500)) == 500 and {x.district for x in load_fleet(500)} == {c.code for c in communes}


def test_the_legacy_set_still_has_a_fleet():
    fleet = legacy_fleet()
    assert {x.district for x in fleet} == {c.code for c in AreaRegistry.named(LEGACY_SET).communes()}
    assert {x.kind for x in fleet} == set(SensorKind)


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
    policy = ValidationPolicy(areas=AREAS)
    for m in hostile:
        assert not isinstance(validate(m.topic, m.payload, fleet, received_at=end, policy=policy), Accepted), m.kind
    valid = [v for m in msgs if m.kind == "valid"
             and isinstance(v := validate(m.topic, m.payload, fleet, received_at=end, policy=policy), Accepted)]
    assert {v.format.value for v in valid} == {"native", "senml", "ngsi-ld"}
    legacy = {r.device_id for v in valid for r in v.readings if r.topic_area is not None}
    assert 0.02 * len(fleet) < len(legacy) < 0.1 * len(fleet) and len(valid) > 0.9 * (len(msgs) - len(hostile))  # devices still on their former district's topic
