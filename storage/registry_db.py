"""The database-backed registry: write districts and devices (from their files) into TimescaleDB."""

from __future__ import annotations

import psycopg

from telemetry.devices import DeviceRegistry
from telemetry.districts import DistrictRegistry


def seed(dsn: str, districts: DistrictRegistry, devices: DeviceRegistry) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn, conn.transaction():
        with conn.cursor() as cur:
            cur.executemany("""
                INSERT INTO districts (code, name, kind, lat, lon, population) VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, lat = EXCLUDED.lat,
                    lon = EXCLUDED.lon, population = EXCLUDED.population""",
                [(d.code, d.name, d.kind, d.lat, d.lon, d.population) for d in districts])
            cur.executemany("""
                INSERT INTO devices (device_id, district, kind, lat, lon, name, installed, status, interval_s,
                                     flood_threshold_cm, zone, road, river)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (device_id) DO UPDATE SET district = EXCLUDED.district, kind = EXCLUDED.kind,
                    lat = EXCLUDED.lat, lon = EXCLUDED.lon, name = EXCLUDED.name, installed = EXCLUDED.installed,
                    status = EXCLUDED.status, interval_s = EXCLUDED.interval_s,
                    flood_threshold_cm = EXCLUDED.flood_threshold_cm, zone = EXCLUDED.zone, road = EXCLUDED.road,
                    river = EXCLUDED.river, updated_at = now()""",
                [(d.device_id, d.district, d.kind.value, d.lat, d.lon, d.name, d.installed, d.status.value,
                  d.interval_s, d.flood_threshold_cm, d.zone.value if d.zone else None, d.road, d.river)
                 for d in devices])
    return len(districts), len(devices)
