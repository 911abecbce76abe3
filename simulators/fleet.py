"""The province's device fleet, deterministic: air-quality and weather stations, noise meters
(normal and special zones), water-level gauges on the rivers and traffic counters on the national
roads of the 12 district-level units; more in the two cities."""

from __future__ import annotations

import random
from datetime import date

from telemetry.devices import Device, DeviceRegistry
from telemetry.districts import DistrictRegistry

RIVERS = {288: ["Thái Bình", "Sặt"], 290: ["Kinh Thầy", "Thái Bình"], 291: ["Thái Bình"], 292: ["Kinh Thầy"],
          293: ["Kinh Thầy"], 294: ["Thái Bình", "Văn Úc"], 295: ["Sặt"], 296: ["Sặt"], 297: ["Sặt"],
          298: ["Luộc"], 299: ["Luộc"], 300: ["Luộc"]}
ROADS = {288: ["QL5", "QL37", "QL38"], 290: ["QL18", "QL37"], 291: ["QL37"], 292: ["QL17B"], 293: ["QL5"],
         294: ["QL37"], 295: ["QL5", "QL38"], 296: ["QL38"], 297: ["QL37"], 298: ["QL10"], 299: ["QL37"],
         300: ["QL38"]}


def build_fleet(districts: DistrictRegistry | None = None, seed: int = 7) -> DeviceRegistry:
    districts = districts or DistrictRegistry.default()
    rng = random.Random(seed)
    devices: list[Device] = []

    def jitter(x: float) -> float:
        return round(x + rng.uniform(-0.02, 0.02), 5)

    for d in districts:
        city = d.kind == "city"
        n = 1

        def add(prefix: str, kind: str, **kw) -> None:
            nonlocal n
            devices.append(Device(device_id=f"{prefix}-{d.code}-{n:02d}", district=d.code, kind=kind,
                                  lat=jitter(d.lat), lon=jitter(d.lon), installed=date(2024, 1 + n % 12, 1), **kw))
            n += 1

        for i in range(2 if city else 1):
            add("aq", "air_quality", name=f"Trạm không khí {d.name} {i + 1}", interval_s=60)
        add("wx", "weather", name=f"Trạm khí tượng {d.name}", interval_s=60)
        for i in range(2 if city else 1):
            add("nz", "noise", zone="normal", name=f"Đo ồn {d.name} {i + 1}", interval_s=60)
        if city:
            add("nz", "noise", zone="special", name=f"Đo ồn bệnh viện {d.name}", interval_s=60)
        for river in RIVERS.get(d.code, ["Thái Bình"]):
            add("wl", "water_level", river=river, flood_threshold_cm=float(rng.choice([420, 450, 480])),
                name=f"Trạm thủy văn sông {river} ({d.name})", interval_s=300)
        for road in ROADS.get(d.code, ["QL5"])[: 3 if city else 1]:
            add("tf", "traffic", road=road, name=f"Đếm xe {road} ({d.name})", interval_s=60)
    return DeviceRegistry(devices)


def load_fleet(n: int, districts: DistrictRegistry | None = None) -> DeviceRegistry:
    """N air-quality devices spread over the districts, for load tests."""
    codes = [d.code for d in (districts or DistrictRegistry.default())]
    return DeviceRegistry([Device(device_id=f"ld-{codes[i % len(codes)]}-{i:05d}", district=codes[i % len(codes)],
                                  kind="air_quality", interval_s=60) for i in range(n)])
