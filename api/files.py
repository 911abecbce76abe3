"""Files streamed from keyset pages of a query: the pages themselves (each one short query after the
last row of the one before — no size cap, no long transaction, memory bounded by a page), and the
CSV, GeoJSON and Parquet bodies written from them as they come."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import Request
from psycopg import sql as psql


def value(v):
    return v.isoformat() if isinstance(v, datetime) else v


async def pages(request: Request, query: psql.Composable, params: dict,
                keyset: dict[str, str], after: dict | None = None) -> AsyncIterator[list[dict]]:
    """Rows of `query`, a page at a time: it is ordered by its keyset and reads
    `(%(first)s OR (k…) > (%(param)s…)) … LIMIT %(page)s`; `keyset` maps each param to its column;
    `after` (param → value) resumes after that row."""
    def key(row: dict | None) -> dict:
        return {param: row[column] if row else None for param, column in keyset.items()}

    page = request.app.state.settings.export_page_rows
    while True:
        async with request.app.state.read_pool.connection() as conn:
            rows = await (await conn.execute(query, {**params, "page": page, "first": after is None,
                                                     **(after or key(None))})).fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        after = key(rows[-1])


def as_csv(columns: list[str], source: AsyncIterator[list[dict]], header: bool = True) -> AsyncIterator[bytes]:
    """CSV, a chunk per page; `header=False` for a file resumed (its header is in the first part)."""
    async def gen():
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if header:
            writer.writerow(columns)
        async for rows in source:
            for r in rows:
                writer.writerow([value(r[c]) if r[c] is not None else "" for c in columns])
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
        yield buf.getvalue().encode()
    return gen()


def as_geojson(point: Callable[[dict], tuple[float | None, float | None]], columns: list[str],
               source: AsyncIterator[list[dict]], licence: str) -> AsyncIterator[bytes]:
    async def gen():
        yield b'{"type": "FeatureCollection", "licence": ' + orjson.dumps(licence) + b', "features": ['
        first = True
        async for rows in source:
            chunk = []
            for r in rows:
                lat, lon = point(r)
                geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None else None
                feature = {"type": "Feature", "geometry": geometry,
                           "properties": {c: value(r[c]) for c in columns if r[c] is not None}}
                chunk.append(orjson.dumps(feature))
            yield (b"" if first else b",") + b",".join(chunk)
            first = False
        yield b"]}"
    return gen()


class _Sink(io.RawIOBase):
    """Where a Parquet writer writes: the bytes are taken away after each row group."""

    def __init__(self) -> None:
        super().__init__()
        self.buf, self.pos = bytearray(), 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.buf += b
        self.pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self.pos

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


def as_parquet(schema: pa.Schema, source: AsyncIterator[list[dict]]) -> AsyncIterator[bytes]:
    """A Parquet file (zstd), a row group per page, each sent as soon as it is written; the footer last."""
    async def gen():
        sink = _Sink()
        writer = pq.ParquetWriter(sink, schema, compression="zstd")
        async for rows in source:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            yield sink.take()
        writer.close()
        yield sink.take()
    return gen()


def counted(source: AsyncIterator[list[dict]], on_end: Callable[[int], None]) -> AsyncIterator[list[dict]]:
    """The same pages; `on_end(rows)` once the last has been taken, or the client went away."""
    async def gen():
        n = 0
        try:
            async for rows in source:
                n += len(rows)
                yield rows
        finally:
            on_end(n)
    return gen()
