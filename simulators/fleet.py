"""The city's device fleet, deterministic, over the communes of an area set (default hai-phong-2025:
the 114 communes of Hải Phòng).

- air quality in every commune; a second station in every phường (the urban wards of the two former
  cities and the towns) and in the communes of the former districts with industrial zones, ports and
  power plants (their stations are named so, and read higher: simulators/signals.py);
- a weather station in every former district (group);
- noise meters in every phường (normal zone), and at the hospitals of the urban centres (special);
- water-level gauges on the rivers of each former district (Cấm, Lạch Tray, Văn Úc, Thái Bình,
  Kinh Thầy, Luộc, Sặt, …), one gauge per river, in successive communes of the group;
- traffic counters on the national roads and expressways through each former district (QL5, QL10,
  QL18, QL37, QL38, QL17B, the Hà Nội–Hải Phòng expressway, …).
The river and road lists follow the geography at the level of former districts (approximate: which
commune of the group holds a gauge or a counter is the simulator's choice). Devices report every
5 minutes (water every 10), as municipal stations' averages do; each sits at its commune's point,
moved by up to ~200 m while it stays inside the commune's boundary.
"""

from __future__ import annotations

import random
from datetime import date

from telemetry.areas import LEGACY_SET, Area, AreaRegistry, Level
from telemetry.devices import Device, DeviceRegistry

RIVERS = {288: ["Thái Bình", "Sặt"], 290: ["Kinh Thầy", "Thái Bình"], 291: ["Thái Bình"], 292: ["Kinh Thầy"],
          293: ["Kinh Thầy"], 294: ["Thái Bình", "Văn Úc"], 295: ["Sặt"], 296: ["Sặt"], 297: ["Sặt"],
          298: ["Luộc"], 299: ["Luộc"], 300: ["Luộc"], 303: ["Cấm"], 304: ["Cấm"], 305: ["Lạch Tray"],
          306: ["Lạch Tray", "Cấm"], 307: ["Lạch Tray"], 309: ["Lạch Tray"], 311: ["Cấm", "Kinh Thầy"],
          312: ["Cấm"], 313: ["Văn Úc", "Lạch Tray"], 314: ["Văn Úc"], 315: ["Văn Úc", "Thái Bình"],
          316: ["Thái Bình", "Luộc"]}
ROADS = {288: ["QL5", "QL37", "QL38"], 290: ["QL18", "QL37"], 291: ["QL37"], 292: ["QL17B", "QL18"],
         293: ["QL5", "QL17B"], 294: ["QL17B"], 295: ["QL5", "QL38"], 296: ["QL38"], 297: ["QL37", "CT.04"],
         298: ["QL17B", "CT.04"], 299: ["QL37"], 300: ["QL38"], 303: ["QL5"], 304: ["QL5"], 305: ["QL10"],
         306: ["QL5", "CT.04"], 307: ["QL10"], 309: ["QL353"], 311: ["QL10"], 312: ["QL5", "QL10"],
         313: ["QL10", "CT.04"], 314: ["QL10"], 315: ["QL10"], 316: ["QL10", "QL37"], 317: ["QL5"]}
ROAD_NAMES = {"CT.04": "cao tốc Hà Nội–Hải Phòng"}
# Former districts with industrial zones, ports or power plants (Phả Lại, Kinh Môn's cement, Đại An,
# VSIP and Nam Cầu Kiền, Đình Vũ and Lạch Huyện ports, …).
INDUSTRY = {290, 292, 293, 295, 306, 311, 312, 317}
URBAN = {288, 290, 303, 304, 305, 306, 307}  # the centres of the two former cities: hospitals' noise
KINDS_OF_WARD = {"phường", "city"}  # "city": the legacy set's two cities


def _former(areas: AreaRegistry, commune: Area) -> int:
    """The former district a commune grew from (its group), or itself in the legacy set."""
    group = areas.group_of(commune.code)
    return group.code if group else commune.code


def build_fleet(areas: AreaRegistry | None = None, seed: int = 7) -> DeviceRegistry:
    areas = areas or AreaRegistry.named()
    rng = random.Random(seed)
    devices: list[Device] = []
    communes = areas.communes()
    by_group: dict[int, list[Area]] = {}
    for c in communes:
        by_group.setdefault(_former(areas, c), []).append(c)

    def where(c: Area) -> tuple[float, float]:
        for _ in range(5):
            lat, lon = round(c.lat + rng.uniform(-0.002, 0.002), 5), round(c.lon + rng.uniform(-0.002, 0.002), 5)
            if areas.boundaries is None or [a.code for a in areas.locate(lat, lon)] == [c.code]:
                return lat, lon
        return c.lat, c.lon

    counters: dict[int, int] = {}

    def add(c: Area, prefix: str, kind: str, **kw) -> None:
        n = counters[c.code] = counters.get(c.code, 0) + 1
        lat, lon = where(c)
        devices.append(Device(device_id=f"{prefix}-{c.code}-{n:02d}", district=c.code, kind=kind, lat=lat, lon=lon,
                              installed=date(2024, 1 + n % 12, 1), interval_s=kw.pop("interval_s", 300), **kw))

    for c in communes:
        former = _former(areas, c)
        add(c, "aq", "air_quality", name=f"Trạm không khí {c.name}")
        if c.kind in KINDS_OF_WARD:
            add(c, "aq", "air_quality", name=f"Trạm không khí {c.name} 2")
            add(c, "nz", "noise", zone="normal", name=f"Đo ồn {c.name}")
        if former in INDUSTRY:
            add(c, "aq", "air_quality", name=f"Trạm không khí {c.name} (khu công nghiệp, cảng)")
    for former, members in sorted(by_group.items()):
        add(members[0], "wx", "weather", name=f"Trạm khí tượng {members[0].name}")
        if former in URBAN:
            add(members[0], "nz", "noise", zone="special", name=f"Đo ồn bệnh viện {members[0].name}")
        for i, river in enumerate(RIVERS.get(former, [])):
            c = members[i % len(members)]
            add(c, "wl", "water_level", river=river, flood_threshold_cm=float(rng.choice([420, 450, 480])),
                name=f"Trạm thủy văn sông {river} ({c.name})", interval_s=600)
        for i, road in enumerate(ROADS.get(former, [])):
            c = members[-1 - i % len(members)]
            add(c, "tf", "traffic", road=road, name=f"Đếm xe {ROAD_NAMES.get(road, road)} ({c.name})")
    return DeviceRegistry(devices)


def legacy_fleet(seed: int = 7) -> DeviceRegistry:
    """The fleet of the legacy set (Hải Dương's 12 districts before the merger)."""
    return build_fleet(AreaRegistry.named(LEGACY_SET), seed)


def load_fleet(n: int, areas: AreaRegistry | None = None) -> DeviceRegistry:
    """N air-quality devices spread over the communes, for load tests."""
    codes = [c.code for c in (areas or AreaRegistry.named()).at_level(Level.COMMUNE)]
    return DeviceRegistry([Device(device_id=f"ld-{codes[i % len(codes)]}-{i:05d}", district=codes[i % len(codes)],
                                  kind="air_quality", interval_s=60) for i in range(n)])
