"""TimescaleDB of the local stack: create a hypertable and query time_bucket with psycopg."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql


def test_hypertable_and_time_bucket(database_url, unique):
    schema = f"test_{unique}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        version = conn.execute("select extversion from pg_extension where extname = 'timescaledb'").fetchone()
        assert version and version[0].startswith("2.")
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
        try:
            table = sql.Identifier(schema, "readings")
            conn.execute(sql.SQL("create table {} (ts timestamptz not null, device text, value float8)").format(table))
            conn.execute("select create_hypertable(%s::regclass, 'ts', chunk_time_interval => interval '1 hour')",
                         (f"{schema}.readings",))
            start = datetime(2026, 1, 1, tzinfo=timezone.utc)
            with conn.cursor().copy(sql.SQL("copy {} (ts, device, value) from stdin").format(table)) as copy:
                for minute in range(120):
                    copy.write_row((start + timedelta(minutes=minute), "d1", float(minute)))
            rows = conn.execute(
                sql.SQL("select time_bucket('30 minutes', ts) as b, count(*), avg(value) from {} group by b order by b")
                .format(table)
            ).fetchall()
            assert [(r[1], r[2]) for r in rows] == [(30, 14.5), (30, 44.5), (30, 74.5), (30, 104.5)]
            chunks = conn.execute("select count(*) from show_chunks(%s::regclass)", (f"{schema}.readings",)).fetchone()
            assert chunks[0] == 2
        finally:
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
