"""Write one batch of rows into TimescaleDB in one transaction: binary COPY into a temporary staging
table per target, then INSERT … SELECT … ON CONFLICT (COPY itself has no ON CONFLICT)."""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from storage.rows import (AGGREGATES, AQI, ALERTS, READINGS, TableSpec, aggregate_rank, aqi_rank, dedupe_alerts,
                          dedupe_readings, dedupe_versions)

logger = logging.getLogger(__name__)


def _stage(spec: TableSpec) -> sql.Identifier:
    return sql.Identifier(f"stage_{spec.table}")


class BatchWriter:
    """One connection; its staging tables are temporary (per session, emptied at each commit)."""

    def __init__(self, dsn: str, specs: list[TableSpec]) -> None:
        self.dsn = dsn
        self.specs = specs
        self.conn: psycopg.AsyncConnection | None = None

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
                    if spec is READINGS:
                        table_rows = dedupe_readings(table_rows)
                    elif spec is ALERTS:
                        table_rows = dedupe_alerts(table_rows)
                    elif spec is AGGREGATES:
                        table_rows = dedupe_versions(table_rows, (3, 4, 2, 0), aggregate_rank)
                    elif spec is AQI:
                        table_rows = dedupe_versions(table_rows, (3, 2, 0), aqi_rank)
                    cols = sql.SQL(", ").join(map(sql.Identifier, spec.columns))
                    copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(_stage(spec), cols)
                    async with cur.copy(copy) as cp:
                        cp.set_types(list(spec.types))
                        for row in table_rows:
                            await cp.write_row(row)
                    await cur.execute(sql.SQL("INSERT INTO {} AS {} ({}) SELECT {} FROM {} ").format(
                        sql.Identifier(spec.table), sql.Identifier(spec.table), cols, cols, _stage(spec))
                        + sql.SQL(spec.conflict))
                    written[spec.table] = cur.rowcount
        return written
