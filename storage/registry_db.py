"""The database-backed registry: write the area set and the devices (from their files) into TimescaleDB."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from storage.exceptions import SeedError
from telemetry.areas import AreaRegistry, Level
from telemetry.devices import DeviceRegistry

_TOP_DOWN = {Level.CITY: 0, Level.GROUP: 1, Level.COMMUNE: 2}  # parents before their children


def seed(dsn: str, areas: AreaRegistry, devices: DeviceRegistry) -> tuple[int, int]:
    """Upsert every area of the set (with its boundary) and every device; one transaction."""
    ordered = sorted(areas, key=lambda a: (_TOP_DOWN[a.level], a.code))
    with psycopg.connect(dsn) as conn, conn.transaction():
        known = {row[0] for row in conn.execute("SELECT code FROM areas")} | {a.code for a in areas}
        if stray := sorted({d.device_id: d.district for d in devices if d.district not in known}.items()):
            listed = ", ".join(f"{device} ({code})" for device, code in stray[:10])
            raise SeedError(f"{len(stray)} devices belong to areas that are neither in the area set "
                                 f"{areas.name} nor in the database: {listed}. Seed with the set they belong "
                                 "to (--area-set), or correct their area in the registry (citysense devices add)")
        with conn.cursor() as cur:
            cur.executemany("""
                INSERT INTO areas (code, name, kind, level, parent, lat, lon, population, area_set, boundary)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, level = EXCLUDED.level,
                    parent = EXCLUDED.parent, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
                    population = EXCLUDED.population, area_set = EXCLUDED.area_set, boundary = EXCLUDED.boundary""",
                [(a.code, a.name, a.kind, a.level.value, a.parent, a.lat, a.lon, a.population, areas.name,
                  Jsonb(g) if (g := areas.boundaries and areas.boundaries.geometry(a.code)) else None)
                 for a in ordered])
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
    return len(areas), len(devices)
