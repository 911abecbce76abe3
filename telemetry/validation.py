"""Validate one MQTT message against the contracts: accepted readings, or a rejection with a reason.

`validate()` never raises for any input: every failure is a `Rejection` value.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from telemetry import strictjson
from telemetry.areas import AreaRegistry
from telemetry.devices import DeviceRegistry, DeviceStatus
from telemetry.formats import native, ngsi, senml
from telemetry.formats.detect import detect
from telemetry.formats.observation import Observation, is_number
from telemetry.metrics import catalogue
from telemetry.reading import PayloadFormat, Reading, Status
from telemetry.rejections import Reason, Rejected, Rejection
from telemetry.topics import DEFAULT_ROOT, parse_uplink
from telemetry.units import to_canonical

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationPolicy:
    topic_root: str = DEFAULT_ROOT
    max_payload_bytes: int = 64 * 1024
    max_depth: int = 8
    max_future_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=7)
    # The area set: a device configured before the 2025 merger that still publishes under its
    # former district's code is accepted when its registered commune lies in that former district.
    areas: AreaRegistry | None = None


@dataclass(frozen=True)
class Accepted:
    readings: list[Reading] = field(default_factory=list)
    format: PayloadFormat = PayloadFormat.NATIVE

    @property
    def accepted(self) -> bool:
        return True


DEFAULT_POLICY = ValidationPolicy()


def validate(
    topic: str,
    payload: bytes,
    registry: DeviceRegistry,
    *,
    received_at: datetime | None = None,
    policy: ValidationPolicy = DEFAULT_POLICY,
) -> Accepted | Rejection:
    received_at = received_at or datetime.now(timezone.utc)
    try:
        return _validate(topic, payload, registry, received_at, policy)
    except Rejected as exc:
        return exc.rejection
    except (RecursionError, MemoryError):
        return Rejection(Reason.TOO_DEEP, "payload too complex to process")
    except Exception as exc:  # a contract bug must not crash a service: reject, and say what it was
        logger.exception("validation of a payload on %r raised unexpectedly (a contract bug)", topic[:200])
        return Rejection(Reason.PROCESSING_ERROR, f"payload could not be processed ({type(exc).__name__}: {exc})"[:500])


def _validate(topic: str, payload: bytes, registry: DeviceRegistry, received_at: datetime,
              policy: ValidationPolicy) -> Accepted:
    if len(payload) > policy.max_payload_bytes:
        raise Rejected(Reason.PAYLOAD_TOO_LARGE,
                       f"payload of {len(payload)} bytes (at most {policy.max_payload_bytes})")
    uplink = parse_uplink(topic, policy.topic_root)
    device = registry.get(uplink.device_id)
    if device is None or device.status is DeviceStatus.REVOKED:
        state = "revoked" if device else "not in the device registry"
        raise Rejected(Reason.UNKNOWN_DEVICE, f"device {uplink.device_id!r} is {state}")
    topic_area = None
    if device.district != uplink.district:
        if not _former_district(policy.areas, device.district, uplink.district):
            raise Rejected(Reason.DISTRICT_MISMATCH, _mismatch(policy, device.device_id, device.district,
                                                              uplink.district))
        topic_area = uplink.district  # legacy topic: counted, so operators know whom to reconfigure
    value = strictjson.loads(payload, max_bytes=policy.max_payload_bytes, max_depth=policy.max_depth)
    fmt = detect(value)
    if fmt is PayloadFormat.NATIVE:
        observations = native.parse(value)
    elif fmt is PayloadFormat.SENML:
        observations = senml.parse(value, received_at)
    else:
        observations = ngsi.parse(value)
    readings = []
    for obs in observations:
        readings += _to_readings(obs, device, fmt, received_at, policy, topic_area)
    return Accepted(readings=readings, format=fmt)


def _former_district(areas: AreaRegistry | None, area: int, topic_code: int) -> bool:
    if areas is None or area not in areas:
        return False
    group = areas.group_of(area)
    return group is not None and group.code == topic_code


def _mismatch(policy: ValidationPolicy, device_id: str, area: int, topic_code: int) -> str:
    areas = policy.areas
    known = areas.get(area) if areas else None
    if known is None:
        return f"device {device_id!r} belongs to area {area}, published under {topic_code}"
    group = areas.group_of(area)
    former = f" (former district {group.code})" if group else ""
    return (f"device {device_id!r} belongs to area {area} {known.name}{former}, published under {topic_code}: "
            f"publish under {policy.topic_root}/v1/{area}/{device_id}/telemetry")


def _check_time(ts: datetime, received_at: datetime, policy: ValidationPolicy) -> None:
    if ts > received_at + policy.max_future_skew:
        raise Rejected(Reason.TS_FUTURE, f"time {ts.isoformat()} is more than {policy.max_future_skew} ahead")
    if ts < received_at - policy.max_age:
        raise Rejected(Reason.TS_TOO_OLD, f"time {ts.isoformat()} is older than {policy.max_age}")


def _to_readings(obs: Observation, device, fmt: PayloadFormat, received_at: datetime,
                 policy: ValidationPolicy, topic_area: int | None = None) -> list[Reading]:
    _check_time(obs.ts, received_at, policy)
    cat = catalogue()
    by_status: dict[Status, dict[str, float]] = {}
    for name, raw in obs.values.items():
        m = cat.get(name)
        if m is None:
            raise Rejected(Reason.UNKNOWN_METRIC, f"unknown metric {name[:60]!r}")
        if device.kind not in m.kinds:
            raise Rejected(Reason.UNKNOWN_METRIC, f"metric {name!r} is not measured by {device.kind} devices")
        if not is_number(raw.value):
            raise Rejected(Reason.WRONG_TYPE, f"{name} must be a number, got {type(raw.value).__name__}")
        value = float(raw.value)
        if not math.isfinite(value):
            raise Rejected(Reason.NOT_FINITE, f"{name} is not finite")
        value = to_canonical(name, value, raw.unit)
        if not m.in_range(value):
            raise Rejected(Reason.OUT_OF_RANGE, f"{name}={value:g} {m.unit} outside {m.min:g}..{m.max:g}")
        by_status.setdefault(raw.status, {})[name] = value
    # Every field was checked above: build without running the model's validators a second time.
    return [
        Reading.model_construct(
            device_id=device.device_id, district=device.district, kind=device.kind, ts=obs.ts,
            received_at=received_at, seq=obs.seq, status=status, metrics=metrics, format=fmt, topic_area=topic_area,
        )
        for status, metrics in by_status.items()
    ]
