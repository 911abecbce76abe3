"""Records the database refuses: which errors a retry cannot cure, how a failed batch is split to
find the records at fault, and their rows in the `quarantine` table (migration 0008).

A batch that fails for a *data* error (a value the column refuses, a NUL in a text, a constraint, a
value the binary COPY cannot encode) is written again table by table, and a table's rows that fail
are halved until each failing record stands alone: O(k·log n) transactions for k bad records among
n. The bad records go to `quarantine` with the error, its SQLSTATE and their Kafka coordinates; the
rest is stored. Connection and server-state errors are *transient* (retried with backoff, nothing
committed); errors of the schema or the grants (an undefined table, a missing privilege) are not the
records' fault either: retried, with a log line that names the fix, never quarantined.
"""

from __future__ import annotations

from typing import Protocol

import orjson
import psycopg
from psycopg import sql

from storage.rows import TableSpec


class Origin(Protocol):
    """Where a row came from: its Kafka record (aiokafka's ConsumerRecord is one)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


Rows = dict[TableSpec, list[tuple[tuple, Origin]]]

_DATA_ERRORS = (psycopg.DataError, psycopg.IntegrityError, TypeError, ValueError, OverflowError)


def is_transient(exc: BaseException) -> bool:
    """Trying the same batch again later may succeed: the connection or the server's state."""
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


def is_data_error(exc: BaseException) -> bool:
    """The records are at fault: split the batch and quarantine them."""
    return isinstance(exc, _DATA_ERRORS) and not is_transient(exc)


def device_of(value: bytes) -> str | None:
    try:
        message = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict):
        return None
    device = message.get("device_id") or (message.get("reading") or {}).get("device_id")
    return _text(str(device))[:128] if device is not None else None


def _text(value: str) -> str:
    """PostgreSQL's text cannot hold NUL (a reason records end here): shown escaped."""
    return value.replace("\x00", "\\x00")


def quarantine_row(origin: Origin, table: str | None, exc: BaseException) -> tuple:
    diag = getattr(exc, "diag", None)
    sqlstate = getattr(exc, "sqlstate", None) or (diag.sqlstate if diag is not None else None)
    error = _text(f"{type(exc).__name__}: {str(exc).strip()}")[:2000]
    value = origin.value or b""
    return (origin.topic, origin.partition, origin.offset, table, device_of(value), sqlstate, error, value,
            len(value))


QUARANTINE_COLUMNS = ("topic", "kafka_partition", "kafka_offset", "target_table", "device_id", "sqlstate", "error",
                      "record", "record_bytes")


async def store_quarantined(conn: psycopg.AsyncConnection, rows: list[tuple]) -> int:
    if not rows:
        return 0
    cols = sql.SQL(", ").join(map(sql.Identifier, QUARANTINE_COLUMNS))
    placeholders = sql.SQL(", ").join(sql.Placeholder() * len(QUARANTINE_COLUMNS))
    async with conn.transaction():
        async with conn.cursor() as cur:
            await cur.executemany(sql.SQL("INSERT INTO quarantine ({}) VALUES ({}) "
                                          "ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING")
                                  .format(cols, placeholders), rows)
    return len(rows)


async def isolate(write, spec: TableSpec, items: list[tuple[tuple, Origin]], written: dict[str, int],
                  bad: list[tuple]) -> None:
    """Write `items` of one table with `write({spec: rows})`, halving around data errors; failing
    records alone go to `bad` (quarantine rows). Transient and schema errors propagate."""
    try:
        done = await write({spec: [row for row, _ in items]})
    except Exception as exc:  # noqa: BLE001 - classified right below; everything else propagates
        if not is_data_error(exc):
            raise
        if len(items) == 1:
            bad.append(quarantine_row(items[0][1], spec.table, exc))
            return
        half = len(items) // 2
        await isolate(write, spec, items[:half], written, bad)
        await isolate(write, spec, items[half:], written, bad)
        return
    for table, n in done.items():
        written[table] = written.get(table, 0) + n
