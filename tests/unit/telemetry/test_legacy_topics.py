"""Devices configured before the 2025 merger keep publishing under their former district's code:
accepted when their registered commune lies in that district, counted (topic_area), refused otherwise."""

from __future__ import annotations

import json

from telemetry.areas import AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.rejections import Reason, Rejection
from telemetry.validation import Accepted, ValidationPolicy, validate

from .conftest import NOW, topic

PAYLOAD = json.dumps({"ts": "2026-11-25T16:00:00+07:00", "metrics": {"pm2_5": 41.3}}).encode()
# Phường Thành Đông (10507) grew from Thành phố Hải Dương (288), per the source's parent column;
# Chí Linh (290) is another former district. Facts from ../shared/reference/haiphong-2025-units.csv.
COMMUNE, FORMER, OTHER = 10507, 288, 290


def _setup():
    devices = DeviceRegistry([Device(device_id="aq-thd-01", district=COMMUNE, kind="air_quality"),
                              Device(device_id="aq-288-01", district=288, kind="air_quality")])
    return devices, ValidationPolicy(areas=AreaRegistry.named("hai-phong-2025"))


def test_a_commune_device_on_its_own_topic_is_not_legacy():
    devices, policy = _setup()
    result = validate(topic("aq-thd-01", COMMUNE), PAYLOAD, devices, received_at=NOW, policy=policy)
    assert isinstance(result, Accepted), result
    assert [(r.district, r.topic_area) for r in result.readings] == [(COMMUNE, None)]


def test_a_commune_device_on_its_former_districts_topic_is_accepted_and_marked():
    devices, policy = _setup()
    result = validate(topic("aq-thd-01", FORMER), PAYLOAD, devices, received_at=NOW, policy=policy)
    assert isinstance(result, Accepted), result
    assert [(r.district, r.topic_area) for r in result.readings] == [(COMMUNE, FORMER)]
    assert json.loads(result.readings[0].to_json())["topic_area"] == FORMER


def test_another_former_district_is_a_mismatch_that_names_the_commune_and_its_topic():
    devices, policy = _setup()
    result = validate(topic("aq-thd-01", OTHER), PAYLOAD, devices, received_at=NOW, policy=policy)
    assert isinstance(result, Rejection)
    assert result.reason is Reason.DISTRICT_MISMATCH
    assert "Phường Thành Đông" in result.message and "former district 288" in result.message
    assert "citysense/v1/10507/aq-thd-01/telemetry" in result.message


def test_without_an_area_set_the_former_code_is_a_mismatch():
    devices, _ = _setup()
    result = validate(topic("aq-thd-01", FORMER), PAYLOAD, devices, received_at=NOW, policy=ValidationPolicy())
    assert isinstance(result, Rejection) and result.reason is Reason.DISTRICT_MISMATCH


def test_a_device_registered_in_a_legacy_district_is_judged_as_before():
    devices, policy = _setup()
    ok = validate(topic("aq-288-01", 288), PAYLOAD, devices, received_at=NOW, policy=policy)
    assert isinstance(ok, Accepted) and ok.readings[0].topic_area is None
    # a district is no commune of another district: 288's device on 290's topic stays refused
    bad = validate(topic("aq-288-01", OTHER), PAYLOAD, devices, received_at=NOW, policy=policy)
    assert isinstance(bad, Rejection) and bad.reason is Reason.DISTRICT_MISMATCH


def test_every_commune_is_accepted_under_its_own_group_and_no_other():
    areas = AreaRegistry.named("hai-phong-2025")
    communes = [a for a in areas if a.level.value == "commune"]
    groups = [a.code for a in areas if a.level.value == "group"]
    assert len(communes) == 114 and len(groups) == 27
    devices = DeviceRegistry([Device(device_id=f"aq-{c.code}", district=c.code, kind="air_quality") for c in communes])
    policy = ValidationPolicy(areas=areas)
    for c in communes:
        accepted = {g for g in groups if isinstance(
            validate(topic(f"aq-{c.code}", g), PAYLOAD, devices, received_at=NOW, policy=policy), Accepted)}
        assert accepted == {c.parent}, c
