"""Write one batch of rows into TimescaleDB in one transaction: binary COPY into a temporary staging
table per target, then INSERT … SELECT … ON CONFLICT (COPY itself has no ON CONFLICT). Tables whose
batches rarely meet stored rows (readings) are first COPYed straight in, in a savepoint: a unique
violation rolls that back and the batch takes the staged path, as do the next few of that table."""

from __future__ import annotations

import logging

import psycopg
from psycopg import errors, sql

from storage.rows import (AGGREGATES, AQI, ALERTS, READINGS, TableSpec, aggregate_rank, aqi_rank, dedupe_alerts,
                          dedupe_readings, dedupe_versions)

logger = logging.getLogger(__name__)

# after a batch met stored rows (a redelivery runs for a while), this many batches go staged first
STAGED_AFTER_CONFLICT = 20


def _stage(spec: TableSpec) -> sql.Identifier:
    return sql.Identifier(f"stage_{spec.table}")


def _deduplicated(spec: TableSpec, rows: list[tuple]) -> list[tuple]:
    """One row per key (ON CONFLICT DO UPDATE may not touch a row twice in one statement)."""
    if spec is READINGS:
        return dedupe_readings(rows)
    if spec is ALERTS:
        return dedupe_alerts(rows)
    if spec is AGGREGATES:
        return dedupe_versions(rows, (3, 4, 2, 0), aggregate_rank)
    if spec is AQI:
        return dedupe_versions(rows, (3, 2, 0), aqi_rank)
    return rows


class BatchWriter:
    """One connection; its staging tables are temporary (per session, emptied at each commit)."""

    def __init__(self, dsn: str, specs: list[TableSpec]) -> None:
        self.dsn = dsn
        self.specs = specs
        self.conn: psycopg.AsyncConnection | None = None
        self.staged_left: dict[str, int] = {}  # per table: batches to write staged before trying COPY again
        self.direct_conflicts = 0  # batches whose direct COPY met a stored row (then written staged)

    async def connect(self) -> None:
        self.conn = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=5)
        async with self.conn.transaction():
            for spec in self.specs:
                await self.conn.execute(sql.SQL(
                    "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                ).format(_stage(spec), sql.Identifier(spec.table)))

    async def connection(self) -> psycopg.AsyncConnection:
        if self.conn is None or self.conn.closed:
            await self.connect()
        return self.conn

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None

    async def write(self, rows: dict[TableSpec, list[tuple]]) -> dict[str, int]:
        """Rows per table, in one transaction; returns the rows inserted or changed per table."""
        conn = await self.connection()
        written: dict[str, int] = {}
        async with conn.transaction():
            async with conn.cursor() as cur:
                for spec, table_rows in rows.items():
                    if not table_rows:
                        continue
                    # (a batch holding the same row twice cannot be COPYed straight in either)
                    if spec.copy_first and await self._copy_straight(cur, spec, table_rows):
                        written[spec.table] = len(table_rows)
                        continue
                    await self._copy(cur, spec, _stage(spec), _deduplicated(spec, table_rows))
                    cols = sql.SQL(", ").join(map(sql.Identifier, spec.columns))
                    await cur.execute(sql.SQL("INSERT INTO {} AS {} ({}) SELECT {} FROM {} ").format(
                        sql.Identifier(spec.table), sql.Identifier(spec.table), cols, cols, _stage(spec))
                        + sql.SQL(spec.conflict))
                    written[spec.table] = cur.rowcount
        return written

    async def _copy_straight(self, cur: psycopg.AsyncCursor, spec: TableSpec, rows: list[tuple]) -> bool:
        """COPY into the table itself in a savepoint; False (rolled back) if a row was already stored."""
        left = self.staged_left.get(spec.table, 0)
        if left:
            self.staged_left[spec.table] = left - 1
            return False
        try:
            async with cur.connection.transaction():
                await self._copy(cur, spec, sql.Identifier(spec.table), rows)
        except errors.UniqueViolation:
            self.direct_conflicts += 1
            self.staged_left[spec.table] = STAGED_AFTER_CONFLICT
            logger.debug("a batch of %d %s rows met stored rows; written with ON CONFLICT", len(rows), spec.table)
            return False
        return True

    @staticmethod
    async def _copy(cur: psycopg.AsyncCursor, spec: TableSpec, target: sql.Identifier, rows: list[tuple]) -> None:
        cols = sql.SQL(", ").join(map(sql.Identifier, spec.columns))
        async with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(target, cols)) as cp:
            cp.set_types(list(spec.types))
            for row in rows:
                await cp.write_row(row)
