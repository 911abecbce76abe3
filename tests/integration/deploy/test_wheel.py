"""The wheel the image installs: built by the project's own build (the Dockerfile's command), installed
alone in a fresh virtual environment with the image's pinned constraints (from PyPI), it runs
`citysense --version` and carries every file the services read at run time — the migrations, the alert
rules, the areas and their boundaries, the dashboard, the NGSI-LD contexts (an editable checkout hides
a missing one: the migrations were missing until this test)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.integration.helpers import fresh_database

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.integration


def run(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_the_wheel_installs_alone_and_runs(tmp_path, database_url, unique):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(tmp_path / "w"),
        str(ROOT))
    wheel = next((tmp_path / "w").glob("citysense-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = sorted(p.name for p in (ROOT / "storage" / "migrations").glob("*.sql"))
    assert {f"storage/migrations/{m}" for m in migrations} <= names
    for needed in ("streams/rules.default.json", "api/web/index.html", "api/ngsi/contexts/ngsi-ld-core-context-v1.8.jsonld",
                   "stack/templates/mosquitto.conf", "telemetry/data/areas/hai-phong-2025.csv"):
        assert needed in names, needed
    venv.create(tmp_path / "v", with_pip=True)
    python = tmp_path / "v" / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--constraint",
        str(ROOT / "deploy" / "docker" / "constraints.txt"), str(wheel))
    assert run(str(tmp_path / "v" / "bin" / "citysense"), "--version").strip() == f"citysense {version}"
    # the installed package finds its own files, not the checkout's: its migrations build an empty database
    out = run(str(python), "-c", "import storage.migrate as m; print(m.__file__)", cwd=tmp_path)
    assert str(tmp_path / "v") in out
    name = f"wheel_{unique}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        dsn = psycopg.conninfo.make_conninfo(database_url, dbname=name)
        done = subprocess.run([str(tmp_path / "v" / "bin" / "citysense"), "db", "migrate"], cwd=tmp_path, timeout=300,
                              capture_output=True, text=True, env={"CITYSENSE_DATABASE_URL": dsn, "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stdout + done.stderr
        with psycopg.connect(dsn) as conn:
            applied = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
            assert conn.execute("SELECT to_regclass('readings') IS NOT NULL").fetchone()[0]
        with fresh_database(database_url, f"wheelref_{unique}") as reference, psycopg.connect(reference) as conn:
            # the same as the checkout applies (the .tsl.sql one only on TimescaleDB's community edition)
            assert applied == [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
        assert len(applied) >= len(migrations) - 1
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
