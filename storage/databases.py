"""Create and drop whole databases on the same server (the demo's, tests', benchmarks' scratch ones).

TimescaleDB comes from template1 (the local stack installs it there), so a new database only needs
`migrate()`. Needs a role with CREATEDB.

Dropping races background workers: a new database's TimescaleDB scheduler starts a job (job 3,
the job-history retention policy) 1-5 s after creation in about every other new database, autovacuum
visits it too, and a `DROP DATABASE … WITH (FORCE)` issued while such a worker is starting up fails
with "must be a member of the role whose process is being terminated" (the worker is not yet anyone
a non-superuser may signal; seen in the postgres log as the DROP's error 5–10 ms after "scheduler …
will be stopped"). So `drop` first closes the database to new connections (its owner may), which
keeps new workers out, and when the DROP still meets a worker in that window it waits for the
worker's start-up to end and drops again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from runtime.retry import Backoff
from storage.migrate import migrate

logger = logging.getLogger(__name__)


def dsn_for(dsn: str, database: str) -> str:
    """The same server and credentials, another database (URL-style DSN)."""
    return dsn.rsplit("/", 1)[0] + f"/{database}"


def as_role(dsn: str, user: str) -> str:
    """The same server and database as another of the local stack's login roles (whose password is
    its name: stack/postgres.py), URL-style DSN."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(netloc=f"{user}:{user}@{parts.hostname}:{parts.port}"))


def create(admin_dsn: str, name: str, *, replace: bool = False, migrated: bool = True) -> str:
    if replace:
        drop(admin_dsn, name)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = dsn_for(admin_dsn, name)
    if migrated:
        migrate(dsn)
    return dsn


def drop(admin_dsn: str, name: str, *, wait_s: float = 30.0) -> None:
    db = sql.Identifier(name)
    backoff = Backoff(first_s=0.05, max_s=1.0)
    deadline = time.monotonic() + wait_s
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(db))
        while True:
            try:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(db))
                return
            except psycopg.errors.InsufficientPrivilege:
                if time.monotonic() > deadline:
                    raise
                logger.info("database %s: a background worker is starting in it; dropping again", name)
                time.sleep(backoff.next_delay())


@contextlib.contextmanager
def scratch(admin_dsn: str, name: str) -> Iterator[str]:
    """A new migrated database for the duration of the block; yields its DSN."""
    dsn = create(admin_dsn, name)
    try:
        yield dsn
    finally:
        drop(admin_dsn, name)
