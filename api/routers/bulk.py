"""/api/v1/exports/bulk: a day or a month of readings, hourly aggregates or VN_AQI for the data
warehouse, as CSV or Parquet, streamed page by page in the key's order. Days and months are
Vietnam's (UTC+07:00). Resumable: CSV from the last complete row a client holds (`after=` its key
columns, comma-separated; no header again, so the parts concatenate); Parquet, whose footer comes last, a day at a time. Each call is in the
access log with the rows actually sent, recorded when the stream ends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

import pyarrow as pa
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from psycopg import sql as psql

from api.access import trace, trace_when_done
from api.deps import Viewer
from api.files import as_csv, as_parquet, counted, pages
from api.params import NO_NUL
from api.problems import Problem, documented
from telemetry.metrics import catalogue

router = APIRouter(prefix="/api/v1/exports/bulk", tags=["exports"], responses=documented(400, 401, 403),
                   default_response_class=StreamingResponse)
LOCAL = timezone(timedelta(hours=7))
TS, TEXT, INT, FLOAT = pa.timestamp("us", tz="UTC"), pa.string(), pa.int64(), pa.float64()


@dataclass(frozen=True)
class Dataset:
    entity: str  # the access log's entity type
    table: str
    time: str  # the column a day or a month selects on
    key: tuple[str, ...]  # the order, and what `after` names
    columns: tuple[tuple[str, pa.DataType], ...]


DATASETS = {
    "readings": Dataset("Reading", "readings", "ts", ("ts", "device_id", "status"), (
        ("ts", TS), ("device_id", TEXT), ("district", INT), ("kind", TEXT), ("status", TEXT), ("seq", INT),
        ("received_at", TS), *((m, FLOAT) for m in catalogue()))),
    "aggregates": Dataset("HourlyAggregate", "aggregates", "window_start", ("window_start", "district", "metric"), (
        ("window_start", TS), ("window_end", TS), ("district", INT), ("metric", TEXT), ("unit", TEXT), ("count", INT),
        ("min", FLOAT), ("max", FLOAT), ("sum", FLOAT), ("mean", FLOAT), ("excluded", INT), ("level", TEXT),
        ("areas", INT))),
    "aqi": Dataset("AirQualityIndex", "aqi", "start", ("start", "district", "period"), (
        ("start", TS), ("end", TS), ("period", TEXT), ("district", INT), ("aqi", INT), ("level_vi", TEXT),
        ("level_en", TEXT), ("dominant", TEXT), ("level", TEXT), ("worst_area", INT))),
}
PERIOD = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
FILES = {200: {"description": "a file, streamed", "content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}}


def span(period: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day (YYYY-MM-DD) or month (YYYY-MM)."""
    m = PERIOD.fullmatch(period)
    try:
        year, month, day = int(m.group(1)), int(m.group(2)), m.group(3) and int(m.group(3))
        start = datetime(year, month, day or 1, tzinfo=LOCAL)
        if not 1900 <= year <= 2200:
            raise ValueError(year)
    except (AttributeError, ValueError):
        raise Problem(400, f"{period[:20]!r} is neither a day (2026-12-04) nor a month (2026-12)",
                      errors=[{"name": "period", "in": "path", "detail": "YYYY-MM-DD or YYYY-MM"}])
    end = start + timedelta(days=1) if day else datetime(year + month // 12, month % 12 + 1, 1, tzinfo=LOCAL)
    return start, end


def _after(dataset: Dataset, text: str | None) -> dict | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != len(dataset.key):
        raise Problem(400, f"after names a row by {', '.join(dataset.key)} (comma-separated, as in the file)",
                      errors=[{"name": "after", "in": "query", "detail": "not a row's key"}])
    out = {}
    for (name, kind), part in zip(((n, dict(dataset.columns)[n]) for n in dataset.key), parts):
        try:
            out[f"a_{name}"] = datetime.fromisoformat(part) if kind == TS else int(part) if kind == INT else part
        except ValueError:
            raise Problem(400, f"after: {part[:40]!r} is not a {name}",
                          errors=[{"name": "after", "in": "query", "detail": f"bad {name}"}])
        if kind == TS and out[f"a_{name}"].tzinfo is None:
            raise Problem(400, f"after: {name} needs its UTC offset, as written in the file",
                          errors=[{"name": "after", "in": "query", "detail": "no UTC offset"}])
    return out


@router.get("/{dataset}/{period}.{fmt}", summary="a day or a month of readings, aggregates or AQI, for a warehouse",
            responses=FILES)
async def bulk(request: Request, _: Viewer, dataset: Literal["readings", "aggregates", "aqi"],
               period: Annotated[str, Path(max_length=10, pattern=r"^[0-9-]+$")], fmt: Literal["csv", "parquet"],
               after: Annotated[str | None, Query(max_length=200, pattern=NO_NUL,
                                                  description="CSV: resume after this row (its key, comma-separated)")]
               = None) -> StreamingResponse:
    d = DATASETS[dataset]
    start, end = span(period)
    resume = _after(d, after)
    if resume is not None and fmt == "parquet":
        raise Problem(400, "a Parquet file is whole or nothing (its footer comes last): resume a month by its days",
                      errors=[{"name": "after", "in": "query", "detail": "CSV only"}])
    names = [c for c, _ in d.columns]
    key = psql.SQL(", ").join(map(psql.Identifier, d.key))
    query = psql.SQL("""SELECT {columns} FROM {table} WHERE {time} >= %(s)s AND {time} < %(e)s
        {only_hours} AND (%(first)s OR ({key}) > ({after})) ORDER BY {key} LIMIT %(page)s""").format(
        columns=psql.SQL(", ").join(map(psql.Identifier, names)), table=psql.Identifier(d.table),
        time=psql.Identifier(d.time), key=key, after=psql.SQL(", ").join(psql.Placeholder(f"a_{k}") for k in d.key),
        only_hours=psql.SQL("AND window_s = 3600" if dataset == "aggregates" else ""))
    keyset = {f"a_{k}": k for k in d.key}
    trace(request, d.entity, 0)
    trace_when_done(request)
    source = counted(pages(request, query, {"s": start, "e": end}, keyset, resume),
                     lambda n: trace(request, d.entity, n))
    if fmt == "csv":
        body, media = as_csv(names, source, header=resume is None), "text/csv; charset=utf-8"
    else:
        body, media = as_parquet(pa.schema(list(d.columns)), source), "application/vnd.apache.parquet"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{dataset}-{period}.{fmt}"'})
