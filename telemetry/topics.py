"""Topic contract: the MQTT uplink topic of each device, Kafka topic names, message keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telemetry.rejections import Reason, Rejected

DEFAULT_ROOT = "citysense"
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DISTRICT = re.compile(r"^[0-9]{1,6}$")


@dataclass(frozen=True)
class Uplink:
    root: str
    district: int
    device_id: str


def uplink_topic(district: int, device_id: str, root: str = DEFAULT_ROOT) -> str:
    """`{root}/v1/{district_code}/{device_id}/telemetry`: one topic per device, so the broker can
    restrict each device to its own topic."""
    return f"{root}/v1/{district}/{device_id}/telemetry"


def uplink_filter(root: str = DEFAULT_ROOT) -> str:
    return f"{root}/v1/+/+/telemetry"


def shared_filter(group: str, root: str = DEFAULT_ROOT) -> str:
    """Shared subscription: the gateways of one group split the devices' traffic."""
    return f"$share/{group}/{uplink_filter(root)}"


def parse_uplink(topic: str, root: str = DEFAULT_ROOT) -> Uplink:
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != root or parts[1] != "v1" or parts[4] != "telemetry":
        raise Rejected(Reason.BAD_TOPIC, f"topic {topic[:120]!r} is not {root}/v1/<district>/<device>/telemetry")
    if not _DISTRICT.match(parts[2]):
        raise Rejected(Reason.BAD_TOPIC, f"district segment {parts[2][:20]!r} is not a numeric code")
    if not _SEGMENT.match(parts[3]):
        raise Rejected(Reason.BAD_TOPIC, f"device segment {parts[3][:70]!r} is not a valid device id")
    return Uplink(root, int(parts[2]), parts[3])


@dataclass(frozen=True)
class KafkaTopics:
    """Kafka topic names; each message is keyed by district code (`district_key`), so per-district
    aggregation needs no repartition and per-device order is kept (a device is in one district)."""

    prefix: str = "citysense"

    @property
    def readings(self) -> str:
        return f"{self.prefix}.readings.v1"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter.v1"

    @property
    def security_events(self) -> str:
        return f"{self.prefix}.security-events.v1"

    @property
    def device_health(self) -> str:
        return f"{self.prefix}.device-health.v1"

    @property
    def aggregates(self) -> str:
        return f"{self.prefix}.aggregates.v1"

    @property
    def aqi(self) -> str:
        return f"{self.prefix}.aqi.v1"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts.v1"

    @property
    def late(self) -> str:
        return f"{self.prefix}.late-readings.v1"

    @property
    def partials(self) -> str:
        """Internal to streams: each area's closed windows and AQI as mergeable partials, keyed by
        the parent area that rolls them up (docs/streams.md)."""
        return f"{self.prefix}.rollup-partials.v1"

    def partitions(self) -> dict[str, int]:
        """Partitions of each topic: 12 for what is keyed by district (12 districts; more workers than
        that cannot help), fewer for the low-volume topics."""
        return {self.readings: 12, self.aggregates: 12, self.aqi: 12, self.alerts: 12, self.late: 12,
                self.partials: 12, self.deadletter: 3, self.security_events: 1, self.device_health: 3}

    def all(self) -> list[str]:
        return [self.readings, self.deadletter, self.security_events, self.device_health, self.aggregates, self.aqi,
                self.alerts, self.late, self.partials]


def district_key(district: int) -> bytes:
    return str(district).encode()
