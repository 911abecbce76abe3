"""Migrations are ordered, recorded and idempotent; the edition path is reported; roles are least privilege."""

from __future__ import annotations

import psycopg
import pytest

from storage.migrate import migrate, status

from .conftest import with_db


def test_migrate_twice_changes_nothing_and_status_reports_the_path(test_db):
    assert migrate(test_db) == []
    report = status(test_db)
    assert report["edition"] == "apache" and report["timescaledb"].startswith("2.")
    assert report["pending"] == []
    assert [m["file"] for m in report["migrations"] if m["skipped"]] == ["0006_rollups.tsl.sql"]
    with psycopg.connect(test_db) as conn:
        hypertables = {r[0] for r in conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")}
    assert {"readings", "aggregates", "aqi", "late_readings", "deadletters", "security_events"} <= hypertables


def test_read_only_role_cannot_write(test_db):
    ro = with_db(test_db, test_db.rsplit("/", 1)[1], "citysense_ro", "citysense_ro")
    with psycopg.connect(ro, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] == 4
        for statement in ("INSERT INTO areas (code, name, kind, level, area_set) VALUES (1, 'x', 'y', 'commune', 'z')",
                          "UPDATE devices SET status = 'revoked'", "DELETE FROM readings",
                          "CREATE TABLE sneaky (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_writer_role_writes_but_cannot_change_the_schema(test_db):
    writer = with_db(test_db, test_db.rsplit("/", 1)[1], "citysense_sink", "citysense_sink")
    with psycopg.connect(writer, autocommit=True) as conn:
        conn.execute("UPDATE devices SET interval_s = 60 WHERE device_id = 'aq-288-01'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE readings")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM devices")
