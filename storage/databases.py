"""Create and drop whole databases on the same server (the demo's, tests', benchmarks' scratch ones).

TimescaleDB comes from template1 (the local stack installs it there), so a new database only needs
`migrate()`. Needs a role with CREATEDB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg import sql

from storage.migrate import migrate


def dsn_for(dsn: str, database: str) -> str:
    """The same server and credentials, another database (URL-style DSN)."""
    return dsn.rsplit("/", 1)[0] + f"/{database}"


def create(admin_dsn: str, name: str, *, replace: bool = False, migrated: bool = True) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if replace:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = dsn_for(admin_dsn, name)
    if migrated:
        migrate(dsn)
    return dsn


def drop(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch(admin_dsn: str, name: str) -> Iterator[str]:
    """A new migrated database for the duration of the block; yields its DSN."""
    dsn = create(admin_dsn, name)
    try:
        yield dsn
    finally:
        drop(admin_dsn, name)
