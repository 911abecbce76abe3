"""A fixed five-hour scenario for two districts, with out-of-order and late readings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from telemetry.devices import Device, DeviceRegistry

HOURS = 5
PM_BY_HOUR = [30.0, 160.0, 200.0, 20.0, 20.0]

REGISTRY = DeviceRegistry([
    Device(device_id="aq-288-01", district=288, kind="air_quality"),
    Device(device_id="nz-288-01", district=288, kind="noise", zone="normal"),
    Device(device_id="tf-290-01", district=290, kind="traffic", road="QL18"),
])


def base_time() -> datetime:
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=HOURS + 2)


def reading(t0: datetime, second: int, device: str, district: int, kind: str, metrics: dict, seq: int) -> dict:
    ts = t0 + timedelta(seconds=second)
    return {"v": 1, "device_id": device, "district": district, "kind": kind, "ts": ts.isoformat(),
            "received_at": (ts + timedelta(seconds=2)).isoformat(), "seq": seq, "status": "measuring",
            "metrics": metrics, "format": "native"}


def traffic(minute: int) -> dict:
    jam = 120 <= minute < 130  # ten minutes of congestion in the third hour
    return {"vehicles_motorbike": 40 + minute % 7, "vehicles_car": 12 + minute % 3, "vehicles_truck_bus": 3,
            "avg_speed": 9.0 if jam else 42.0 + minute % 5, "occupancy": 75.0 if jam else 20.0}


def build(t0: datetime) -> tuple[list[dict], list[int]]:
    """The readings in the order they are produced, and the indexes of the late ones."""
    out: list[dict] = []
    for minute in range(HOURS * 60):
        s = minute * 60 + 10
        out.append(reading(t0, s, "aq-288-01", 288, "air_quality",
                           {"pm2_5": PM_BY_HOUR[minute // 60], "o3": 60.0, "pm10": 50.0}, minute))
        out.append(reading(t0, s + 20, "nz-288-01", 288, "noise", {"noise_laeq": 60.0 + minute % 10}, minute))
        out.append(reading(t0, s + 5, "tf-290-01", 290, "traffic", traffic(minute), minute))
    # Out of order within the allowed lateness: swap neighbours of the same device every 17 minutes.
    for i in range(0, len(out) - 3, 51):
        out[i], out[i + 3] = out[i + 3], out[i]
    # Late: three readings of minute 30 arrive again after minute 200 (past the watermark).
    late_index = []
    for k, second in enumerate((30 * 60 + 45, 30 * 60 + 50, 30 * 60 + 55)):
        late = reading(t0, second, "aq-288-01", 288, "air_quality", {"pm2_5": 999.0}, 10_000 + k)
        pos = 3 * 200 + k
        out.insert(pos, late)
        late_index.append(pos)
    # Closing readings: move both districts' watermarks past the last hour.
    end = HOURS * 3600 + 60
    out.append(reading(t0, end, "aq-288-01", 288, "air_quality", {"pm2_5": 20.0}, 99_999))
    out.append(reading(t0, end, "tf-290-01", 290, "traffic", traffic(0), 99_999))
    return out, late_index
