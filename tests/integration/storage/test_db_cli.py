"""`citysense db migrate | seed | retention`, and the contract commands (`devices list`, `validate`,
`aqi`), run as a user types them, their output checked against what the database then holds or
against values worked out independently (the migrations folder, the registry file, the decision's
tables by hand)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

import storage
import telemetry
from storage.databases import create, drop
from storage.migrate import migrate
from telemetry.devices import DeviceRegistry
from telemetry.resources import data_path

pytestmark = pytest.mark.integration

MIGRATIONS = sorted(p.name for p in (Path(storage.__file__).parent / "migrations").glob("*.sql"))


def citysense(*args: str, dsn: str | None = None, stdin: str = "", expect: int = 0, registry: Path | None = None) -> str:
    env = {**os.environ, **({"CITYSENSE_DATABASE_URL": dsn} if dsn else {}),
           **({"CITYSENSE_REGISTRY": str(registry)} if registry else {})}
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == expect, f"citysense {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture
def bare_db(database_url, unique):
    """A new database with TimescaleDB (from template1) and none of the project's migrations."""
    name = f"bare_{unique}"
    dsn = create(database_url, name, migrated=False)
    yield dsn
    drop(database_url, name)


def test_db_migrate_applies_every_migration_once(bare_db):
    out = citysense("db", "migrate", dsn=bare_db)
    first = out.splitlines()[0].removeprefix("applied: ").split(", ")
    with psycopg.connect(bare_db) as conn:
        edition = conn.execute("SHOW timescaledb.license").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    # the community-only migration (*.tsl.sql) is skipped on the Apache edition, and says so in `db status`
    expected = [m for m in MIGRATIONS if edition == "timescale" or not m.endswith(".tsl.sql")]
    assert first == expected
    assert {"readings", "aggregates", "alerts", "deadletters", "late_readings", "quarantine", "device_health",
            "areas", "devices"} <= tables and "districts" not in tables
    assert citysense("db", "migrate", dsn=bare_db).splitlines()[0] == "applied: nothing (up to date)"
    status = json.loads(citysense("db", "status", "--json", dsn=bare_db))
    assert [m["file"] for m in status["migrations"]] == MIGRATIONS
    assert all(m["applied"] or (m["skipped"] and edition != "timescale") for m in status["migrations"])


def _packaged(name: str) -> tuple[list[dict], set[int]]:
    """The packaged area set read with the csv and json modules, not through telemetry.areas."""
    folder = Path(telemetry.__file__).parent / "data" / "areas"
    rows = list(csv.DictReader((folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()))
    geo = folder / f"{name}.geojson"
    shaped = {int(f["properties"]["code"]) for f in json.loads(geo.read_text(encoding="utf-8"))["features"]} \
        if geo.exists() else set()
    return rows, shaped


def test_db_seed_writes_the_registry_file_and_the_area_set(test_db, tmp_path):
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [
        {"device_id": "aq-seed-1", "district": 288, "kind": "air_quality", "lat": 20.94, "lon": 106.33},
        {"device_id": "wl-seed-2", "district": 290, "kind": "water_level", "flood_threshold_cm": 350},
        {"device_id": "nz-seed-3", "district": 291, "kind": "noise", "zone": "special", "status": "revoked"},
        {"device_id": "aq-seed-4", "district": 10507, "kind": "air_quality"}]}))
    rows, shaped = _packaged("hai-phong-2025")
    out = citysense("db", "seed", "--registry", str(registry), dsn=test_db)
    assert out.strip() == f"registry in the database: {len(rows)} areas of hai-phong-2025, 4 devices"
    with psycopg.connect(test_db) as conn:
        devices = conn.execute("SELECT device_id, district, kind, status, flood_threshold_cm, zone FROM devices "
                               "WHERE device_id LIKE '%-seed-%' ORDER BY device_id").fetchall()
        stored = {r[0]: r[1:] for r in conn.execute(
            "SELECT code, name, level, parent, boundary IS NOT NULL FROM areas WHERE area_set = 'hai-phong-2025'")}
        geometry = conn.execute("SELECT boundary->>'type', jsonb_array_length(boundary->'coordinates') "
                                "FROM areas WHERE code = 10507").fetchone()
    assert devices == [("aq-seed-1", 288, "air_quality", "active", None, None),
                       ("aq-seed-4", 10507, "air_quality", "active", None, None),
                       ("nz-seed-3", 291, "noise", "revoked", None, "special"),
                       ("wl-seed-2", 290, "water_level", "active", 350.0, None)]
    # every row of the CSV, with its level and parent; a boundary for each commune of the GeoJSON, none else
    assert stored == {int(r["code"]): (r["name"], r["level"], int(r["parent"]) if r["parent"] else None,
                                       int(r["code"]) in shaped) for r in rows}
    assert len(shaped) == 114 and geometry[0] == "MultiPolygon" and geometry[1] >= 1
    # seeding again changes nothing; a device whose area is in neither the set nor the database is refused
    assert citysense("db", "seed", "--registry", str(registry), dsn=test_db).strip() == out.strip()
    registry.write_text(json.dumps({"devices": [{"device_id": "aq-seed-5", "district": 99999, "kind": "air_quality"}]}))
    env = {**os.environ, "CITYSENSE_DATABASE_URL": test_db}
    refused = subprocess.run([sys.executable, "-m", "cli.main", "db", "seed", "--registry", str(registry)],
                             capture_output=True, text=True, timeout=120, env=env)
    assert refused.returncode == 2 and "aq-seed-5 (99999)" in refused.stderr and "--area-set" in refused.stderr


def test_a_database_made_before_areas_keeps_its_districts_devices_and_readings(bare_db, tmp_path):
    """Migrating a database of the district era (migrations up to 0010, districts seeded as they were)."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted((Path(storage.__file__).parent / "migrations").glob("*.sql")):
        if int(path.name[:4]) <= 10:
            (before / path.name).write_bytes(path.read_bytes())
    migrate(bare_db, before)
    legacy, _ = _packaged("hai-duong-2023")
    districts = [r for r in legacy if r["level"] == "commune"]
    with psycopg.connect(bare_db) as conn:
        for r in districts:
            conn.execute("INSERT INTO districts (code, name, kind, lat, lon) VALUES (%s, %s, %s, %s, %s)",
                         (int(r["code"]), r["name"], r["kind"], float(r["lat"]), float(r["lon"])))
        conn.execute("INSERT INTO devices (device_id, district, kind) VALUES ('aq-old-1', 295, 'air_quality')")
        # what the platform stored then: a reading, a district's window, its hourly AQI, an alert
        conn.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5) "
                     "VALUES ('2025-06-30 10:00+00', 'aq-old-1', 295, 'air_quality', '2025-06-30 10:00+00', 42)")
        conn.execute("INSERT INTO aggregates (window_start, window_end, window_s, district, metric, count, min, max, "
                     "sum, mean) VALUES ('2025-06-30 10:00+00', '2025-06-30 11:00+00', 3600, 295, 'pm2_5', 1, 42, "
                     "42, 42, 42)")
        conn.execute("INSERT INTO aqi (start, \"end\", period, district, aqi, level_vi, level_en, colour, sub_indices) "
                     "VALUES ('2025-06-30 10:00+00', '2025-06-30 11:00+00', 'hour', 295, 117, 'Kém', 'Poor', "
                     "'{255,126,0}', '{}')")
        conn.execute("INSERT INTO alerts (alert_id, district, rule, subject, state, severity, opened_at, updated_at) "
                     "VALUES ('old1', 295, 'aqi_bad', 'aqi', 'open', 'warning', '2025-06-30 10:00+00', "
                     "'2025-06-30 10:00+00')")
    applied_now = migrate(bare_db)
    assert applied_now == [m for m in MIGRATIONS if int(m[:4]) > 10]
    with psycopg.connect(bare_db) as conn:
        areas = {r[0]: r[1:] for r in conn.execute("SELECT code, name, level, area_set FROM areas")}
        assert conn.execute("SELECT district FROM devices").fetchall() == [(295,)]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO devices (device_id, district, kind) VALUES ('aq-old-2', 99999, 'noise')")
    assert areas == {int(r["code"]): (r["name"], "commune", "hai-duong-2023") for r in districts}
    with psycopg.connect(bare_db) as conn:  # the old rows, kept, with no level (they predate levels)
        assert conn.execute("SELECT pm2_5 FROM readings").fetchall() == [(42.0,)]
        assert conn.execute("SELECT district, mean, level, areas FROM aggregates").fetchall() == [(295, 42.0, None, None)]
        assert conn.execute("SELECT district, aqi, level, worst_area FROM aqi").fetchall() == [(295, 117, None, None)]
        assert conn.execute("SELECT alert_id, level FROM alerts").fetchall() == [("old1", None)]
    # then today's set over it: the former district codes become groups, the device stays valid
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [{"device_id": "aq-old-1", "district": 295, "kind": "air_quality"}]}))
    citysense("db", "seed", "--registry", str(registry), dsn=bare_db)
    with psycopg.connect(bare_db) as conn:
        assert conn.execute("SELECT level, parent FROM areas WHERE code = 295").fetchone() == ("group", 31)


def test_db_retention_drops_what_is_older_than_the_settings(test_db):
    now = datetime.now(timezone.utc)
    old, recent = now - timedelta(days=500), now - timedelta(days=1)
    old_reject = now - timedelta(days=120)
    with psycopg.connect(test_db) as conn:
        for ts in (old, recent):
            conn.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5) "
                         "VALUES (%s, 'aq-288-01', 288, 'air_quality', %s, 1)", (ts, ts))
        for i, at in enumerate((old_reject, recent)):
            conn.execute("INSERT INTO deadletters (received_at, reason, message, mqtt_topic, payload, payload_bytes, "
                         "payload_truncated, payload_sha256, kafka_partition, kafka_offset) "
                         "VALUES (%s, 'malformed_json', 'm', 't', '\\x00', 1, false, %s, 0, %s)", (at, f"h{i}", i))
            conn.execute("INSERT INTO quarantine (topic, kafka_partition, kafka_offset, error, record, record_bytes, "
                         "quarantined_at) VALUES ('t', 0, %s, 'e', '\\x00', 1, %s)", (i, at))
        edition = conn.execute("SHOW timescaledb.license").fetchone()[0]
    # the defaults: readings 400 days, rejects (dead letters, quarantine, …) 90 days
    report = json.loads(citysense("db", "retention", dsn=test_db))
    with psycopg.connect(test_db) as conn:
        readings = [r[0] for r in conn.execute("SELECT ts FROM readings ORDER BY ts")]
        deadletters = [r[0] for r in conn.execute("SELECT received_at FROM deadletters ORDER BY received_at")]
        quarantine = [r[0] for r in conn.execute("SELECT quarantined_at FROM quarantine")]
    assert quarantine == [recent] and report["quarantine"] == 1
    if edition == "timescale":  # the community edition's retention policies do the rest, on their schedule
        assert set(report) == {"quarantine"}
        return
    assert readings == [recent] and deadletters == [recent]
    assert report["readings"] >= 1 and report["deadletters"] >= 1
    # run again: nothing more to drop
    assert json.loads(citysense("db", "retention", dsn=test_db)) == {
        "readings": 0, "late_readings": 0, "deadletters": 0, "security_events": 0, "device_health": 0}


def test_devices_list_prints_the_registry_file(tmp_path):
    registry = tmp_path / "devices.json"
    devices = [{"device_id": f"dev-{i}", "district": 288 + i % 3, "kind": kind}
               for i, kind in enumerate(["air_quality", "weather", "noise", "traffic", "water_level"])]
    registry.write_text(json.dumps({"devices": devices}))
    listed = json.loads(citysense("devices", "list", "--json", "--registry", str(registry)))["devices"]
    assert {(d["device_id"], d["district"], d["kind"]) for d in listed} == \
        {(d["device_id"], d["district"], d["kind"]) for d in devices}
    text = citysense("devices", "list", "--registry", str(registry))
    for d in devices:
        assert any(d["device_id"] in line and str(d["district"]) in line and d["kind"] in line
                   for line in text.splitlines()), f"{d['device_id']} not listed: {text}"
    # and the default registry is the one `devices add` writes, or the packaged sample
    default = json.loads(citysense("devices", "list", "--json"))["devices"]
    assert len(default) == len(DeviceRegistry.from_json(json.dumps({"devices": default})))


def test_validate_prints_the_canonical_reading_or_the_reason():
    # the packaged sample registry, which has aq-288-01 (the checkout's own registry may hold the demo's fleet)
    sample = data_path("devices.sample.json")
    topic = "citysense/v1/288/aq-288-01/telemetry"
    ts = datetime.now(timezone.utc).replace(microsecond=0)
    accepted = json.loads(citysense("validate", "--topic", topic, registry=sample,
                                    stdin=json.dumps({"ts": ts.isoformat(), "metrics": {"co": 2.0}, "units": {"co": "ppm"}})))
    assert accepted["accepted"] is True
    (reading,) = accepted["readings"]
    assert reading["device_id"] == "aq-288-01" and reading["district"] == 288
    # 2 ppm CO at 25 °C is 2 × 1.145 mg/m³ (EPA's table)
    assert reading["metrics"]["co"] == pytest.approx(2290, rel=0.004)
    rejected = json.loads(citysense("validate", "--topic", topic, registry=sample, stdin='{"ts": 1, "metrics": {',
                                    expect=1))
    assert rejected["accepted"] is False and rejected["reason"] == "malformed_json" and rejected["message"]


def test_aqi_from_concentrations_matches_the_decision_by_hand():
    # PM2.5 hourly means 80, 75, –, 60 µg/m³ (current hour first; the third missing). NowCast:
    # w* = 60/80 = 0.75 > 1/2, so w = 0.75; (80 + 0.75·75 + 0.75³·60) / (1 + 0.75 + 0.75³)
    # = 161.5625 / 2.171875 = 74.388 µg/m³. Decision 1459, Table 2, PM2.5 band 50–80 µg/m³ -> 100–150:
    # (150 − 100) / (80 − 50) × (74.388 − 50) + 100 = 140.65 -> AQI 141, "Kém" (101–150).
    out = json.loads(citysense("aqi", "--hourly", stdin=json.dumps({"pm2_5": [80, 75, None, 60]})))
    assert out["nowcast"]["pm2_5"] == pytest.approx(74.388, abs=0.005)  # printed to 2 decimals
    assert (out["aqi"], out["dominant"], out["level"]["vi"]) == (141, "pm2_5", "Kém")
