"""The simulated city: every device's messages in simulated-time order, with statuses, faults,
payload formats and hostile payloads; each message classified by the contracts' own validator, so
the simulator knows what the platform must accept and what it must reject (and why). A share of the
devices were configured before the 2025 merger and still publish
on their former district's topic (the platform accepts them and counts them: docs/contracts.md)."""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from simulators.faults import HOSTILE, Fault, hostile_payload, pick_fault
from simulators.signals import LOCAL, DeviceSignal
from telemetry.areas import AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import DEFAULT_ROOT, uplink_topic


@dataclass(frozen=True)
class SimConfig:
    seed: int = 7
    hostile_share: float = 0.01
    fault_share: float = 0.1
    ngsi_share: float = 0.15  # of air-quality, noise and traffic devices, which speak NGSI-LD keyValues
    senml_share: float = 0.3  # of weather stations, which speak SenML
    topic_root: str = DEFAULT_ROOT
    interval_override_s: float | None = None  # load mode: every device at this interval
    legacy_share: float = 0.05  # of devices whose commune has a former district: they publish on its code


@dataclass
class Message:
    ts: datetime
    device: Device
    topic: str
    payload: bytes
    kind: str  # "valid" or a hostile kind


def _iso(ts: datetime) -> str:
    return ts.isoformat()


class Province:
    def __init__(self, registry: DeviceRegistry, cfg: SimConfig = SimConfig(), areas: AreaRegistry | None = None) -> None:
        self.registry, self.cfg = registry, cfg
        self.areas = areas = areas or AreaRegistry.named()
        self.rng = random.Random(cfg.seed)
        self.devices = [d for d in registry if d.status.value == "active"]
        self.signals = {d.device_id: DeviceSignal(d, cfg.seed) for d in self.devices}
        frng = random.Random(f"faults:{cfg.seed}")
        self.faults = {d.device_id: Fault(pick_fault(frng, cfg.fault_share), random.Random(f"{cfg.seed}:{d.device_id}"))
                       for d in self.devices}
        prng = random.Random(f"formats:{cfg.seed}")
        self.formats = {}
        for d in self.devices:
            kind = d.kind.value
            if kind in ("air_quality", "noise", "traffic") and prng.random() < cfg.ngsi_share:
                self.formats[d.device_id] = "ngsi"
            elif kind == "weather" and prng.random() < cfg.senml_share:
                self.formats[d.device_id] = "senml"
            else:
                self.formats[d.device_id] = "native"
        self.seq = {d.device_id: 0 for d in self.devices}
        self.districts = sorted({d.district for d in self.devices})
        lrng = random.Random(f"legacy:{cfg.seed}")
        self.topic_area = {}  # device -> the code in its topic
        for d in self.devices:
            group = areas.group_of(d.district) if d.district in areas else None
            legacy = group is not None and lrng.random() < cfg.legacy_share
            self.topic_area[d.device_id] = group.code if legacy else d.district

    def messages(self, start: datetime, end: datetime) -> Iterator[Message]:
        """Every message from `start` to `end`, in simulated-time order (devices start spread over their interval)."""
        heap = []
        n = len(self.devices)
        for i, d in enumerate(self.devices):
            interval = self.cfg.interval_override_s or d.interval_s
            offset = timedelta(seconds=interval * i / n)
            heapq.heappush(heap, (start + offset, i))
        while heap:
            ts, i = heapq.heappop(heap)
            if ts >= end:
                continue
            d = self.devices[i]
            heapq.heappush(heap, (ts + timedelta(seconds=self.cfg.interval_override_s or d.interval_s), i))
            msg = self._message(d, ts)
            if msg is not None:
                yield msg

    def _message(self, d: Device, ts: datetime) -> Message | None:
        signal, fault = self.signals[d.device_id], self.faults[d.device_id]
        metrics = fault.apply(signal.metrics(ts, self.cfg.interval_override_s or d.interval_s))
        if metrics is None:
            return None  # dropout: the device sent nothing
        topic = uplink_topic(self.topic_area[d.device_id], d.device_id, self.cfg.topic_root)
        if self.rng.random() < self.cfg.hostile_share:
            kind = self.rng.choice(sorted(HOSTILE))
            if kind == "district_spoof":
                other = next(x for x in self.districts if x != d.district)
                topic = uplink_topic(other, d.device_id, self.cfg.topic_root)
            elif kind == "unknown_device":
                topic = uplink_topic(d.district, f"rogue-{d.district}-{self.rng.randint(1, 9)}", self.cfg.topic_root)
            return Message(ts, d, topic, hostile_payload(kind, _iso(ts)), kind)
        reported = ts + fault.skew
        self.seq[d.device_id] += 1
        fmt = self.formats[d.device_id]
        if fmt == "ngsi":
            payload = self._ngsi(d, reported, metrics)
        elif fmt == "senml":
            payload = json.dumps([{"bn": f"urn:dev:{d.device_id}:", "bt": reported.timestamp(), "n": k, "v": v}
                                  for k, v in metrics.items()]).encode()
        else:
            body = {"ts": _iso(reported.astimezone(LOCAL)), "seq": self.seq[d.device_id], "metrics": metrics}
            local = ts.astimezone(LOCAL)
            if d.kind.value == "air_quality" and local.hour == 0 and local.minute < 20:
                body["status"] = "calibrating"  # the nightly zero/span check of the analysers
            payload = json.dumps(body).encode()
        return Message(ts, d, topic, payload, "valid")

    @staticmethod
    def _ngsi(d: Device, ts: datetime, metrics: dict) -> bytes:
        when = ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        if d.kind.value == "air_quality":
            names = {"pm2_5": "pm25", "humidity": "relativeHumidity"}
            body = {"id": f"urn:ngsi-ld:AirQualityObserved:{d.device_id}", "type": "AirQualityObserved",
                    "dateObserved": when}
            body.update({names.get(k, k): (v / 100 if k == "humidity" else v) for k, v in metrics.items()})
        elif d.kind.value == "noise":
            body = {"id": f"urn:ngsi-ld:NoiseLevelObserved:{d.device_id}", "type": "NoiseLevelObserved",
                    "dateObservedTo": when, "LAeq": metrics["noise_laeq"]}
        else:
            body = {"id": f"urn:ngsi-ld:TrafficFlowObserved:{d.device_id}", "type": "TrafficFlowObserved",
                    "dateObserved": when, "averageVehicleSpeed": metrics["avg_speed"],
                    "occupancy": metrics["occupancy"] / 100,
                    "intensity": metrics["vehicles_motorbike"] + metrics["vehicles_car"] + metrics["vehicles_truck_bus"]}
        return json.dumps(body).encode()
