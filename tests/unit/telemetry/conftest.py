"""Fixtures for contract tests: a small device registry and a fixed reception time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from telemetry.devices import Device, DeviceRegistry

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def registry() -> DeviceRegistry:
    return DeviceRegistry([
        Device(device_id="aq-288-01", district=288, kind="air_quality"),
        Device(device_id="wx-288-01", district=288, kind="weather"),
        Device(device_id="nz-288-01", district=288, kind="noise", zone="normal"),
        Device(device_id="wl-294-01", district=294, kind="water_level", flood_threshold_cm=450),
        Device(device_id="tf-290-01", district=290, kind="traffic", road="QL18"),
        Device(device_id="old-288-09", district=288, kind="air_quality", status="revoked"),
    ])


def topic(device: str = "aq-288-01", district: int = 288) -> str:
    return f"citysense/v1/{district}/{device}/telemetry"
