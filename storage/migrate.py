"""Ordered SQL migrations (storage/migrations/NNNN_name.sql), applied once each and recorded.

`NNNN_name.tsl.sql` files need TimescaleDB's community (TSL) edition (compression, retention
policies, continuous aggregates): on the Apache edition they are not applied, and not recorded,
so they apply later if the server gains that edition. Each migration runs in its own transaction;
a recorded migration whose file changed is an error (fix forward with a new file).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg

from storage.exceptions import MigrationError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    needs_tsl: bool

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def available(folder: Path = MIGRATIONS) -> list[Migration]:
    out = []
    for path in sorted(folder.glob("*.sql")):
        number, _, rest = path.name.partition("_")
        out.append(Migration(int(number), rest.removesuffix(".sql").removesuffix(".tsl"), path,
                             path.name.endswith(".tsl.sql")))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {folder}")
    return out


def edition(conn: psycopg.Connection) -> str:
    """'apache' or 'timescale' (the community, TSL-licensed edition)."""
    return conn.execute("SHOW timescaledb.license").fetchone()[0]


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())""")


def applied(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    _ensure_table(conn)
    return {v: (n, c) for v, n, c in conn.execute("SELECT version, name, checksum FROM schema_migrations")}


def migrate(dsn: str, folder: Path = MIGRATIONS) -> list[str]:
    """Apply what is missing; returns the names applied. Safe to run again, and from two places at once
    (an advisory lock serialises them)."""
    done_now = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(7263001)")
        try:
            recorded = applied(conn)
            tsl = edition(conn) == "timescale"
            for m in available(folder):
                if m.version in recorded:
                    if recorded[m.version][1] != m.checksum:
                        raise MigrationError(f"migration {m.path.name} changed after it was applied; "
                                             "add a new migration instead of editing an applied one")
                    continue
                if m.needs_tsl and not tsl:
                    logger.info("skipping %s: needs the TimescaleDB community (TSL) edition", m.path.name)
                    continue
                with conn.transaction():
                    conn.execute(m.path.read_text())
                    conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                                 (m.version, m.name, m.checksum))
                logger.info("applied migration %s", m.path.name)
                done_now.append(m.path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(7263001)")
    return done_now


def status(dsn: str, folder: Path = MIGRATIONS) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        recorded = applied(conn)
        ed = edition(conn)
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        server = conn.execute("SHOW server_version").fetchone()[0]
    migrations = [{"file": m.path.name, "applied": m.version in recorded,
                   "skipped": m.needs_tsl and ed != "timescale" and m.version not in recorded}
                  for m in available(folder)]
    return {
        "postgresql": server,
        "timescaledb": version[0] if version else None,
        "edition": ed,
        "path": ("community edition: compression, retention policies and continuous aggregates"
                 if ed == "timescale" else
                 "Apache edition: plain hypertables, `citysense db retention` (drop_chunks), streamed aggregates"),
        "migrations": migrations,
        "pending": [m["file"] for m in migrations if not m["applied"] and not m["skipped"]],
    }
