"""Narrow (one row per metric) against wide (one row per message, a column per metric) on this
machine: the same messages written through COPY into a staging table + INSERT … ON CONFLICT, and
plain binary COPY, into TimescaleDB hypertables. Reports rows/s and messages/s (median of runs).

    .venv/bin/python -m bench.row_shape --messages 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql

from stack.settings import StackSettings

METRICS = ["pm2_5", "pm10", "co", "no2", "so2", "o3", "temperature", "humidity"]


def messages(n: int):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(n):
        yield (t0 + timedelta(seconds=i // 600 * 60), f"aq-{i % 600:03d}", 288 + i % 12,
               [10.0 + (i * 7 + k) % 90 for k in range(len(METRICS))])


def setup(conn, schema: str) -> None:
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("""CREATE TABLE {}.narrow (ts timestamptz NOT NULL, device_id text NOT NULL,
        district int2 NOT NULL, metric text NOT NULL, value float8)""").format(sql.Identifier(schema)))
    cols = sql.SQL(", ").join(sql.SQL("{} float8").format(sql.Identifier(m)) for m in METRICS)
    conn.execute(sql.SQL("""CREATE TABLE {}.wide (ts timestamptz NOT NULL, device_id text NOT NULL,
        district int2 NOT NULL, status text NOT NULL DEFAULT 'measuring', {})""").format(sql.Identifier(schema), cols))
    for t, key in (("narrow", "device_id, metric, ts"), ("wide", "device_id, ts, status")):
        conn.execute("SELECT create_hypertable(%s, 'ts', chunk_time_interval => interval '1 day')", (f"{schema}.{t}",))
        conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {}.{} ({})").format(sql.Identifier(schema), sql.Identifier(t),
                                                                         sql.SQL(key)))


def write(conn, schema: str, shape: str, n: int, batch: int, upsert: bool) -> float:
    s = sql.Identifier(schema)
    conn.execute(sql.SQL("TRUNCATE {}.narrow, {}.wide").format(s, s))
    if shape == "narrow":
        cols, types = ["ts", "device_id", "district", "metric", "value"], ["timestamptz", "text", "int2", "text", "float8"]
    else:
        cols = ["ts", "device_id", "district", *METRICS]
        types = ["timestamptz", "text", "int2", *["float8"] * len(METRICS)]
    target = sql.SQL("{}.{}").format(s, sql.Identifier(shape))
    col_list = sql.SQL(", ").join(map(sql.Identifier, cols))
    rows_per_msg = len(METRICS) if shape == "narrow" else 1
    msgs = list(messages(n))
    start = time.perf_counter()
    for i in range(0, n, batch):
        with conn.transaction():
            with conn.cursor() as cur:
                if upsert:
                    cur.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS stage_{} (LIKE {} INCLUDING DEFAULTS) "
                                        "ON COMMIT DELETE ROWS").format(sql.SQL(shape), target))
                    dest = sql.SQL("stage_{}").format(sql.SQL(shape))
                else:
                    dest = target
                with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(dest, col_list)) as cp:
                    cp.set_types(types)
                    for ts, dev, dist, values in msgs[i:i + batch]:
                        if shape == "narrow":
                            for m, v in zip(METRICS, values):
                                cp.write_row((ts, dev, dist, m, v))
                        else:
                            cp.write_row((ts, dev, dist, *values))
                if upsert:
                    cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                        target, col_list, col_list, dest))
    elapsed = time.perf_counter() - start
    return n * rows_per_msg / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-messages", type=int, default=625)  # 5,000 narrow rows
    args = ap.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    results = {}
    with psycopg.connect(StackSettings().database_url, autocommit=True) as conn:
        setup(conn, schema)
        try:
            for shape in ("narrow", "wide"):
                for upsert in (False, True):
                    rates = [write(conn, schema, shape, args.messages, args.batch_messages, upsert)
                             for _ in range(args.runs)]
                    rows = statistics.median(rates)
                    per_msg = len(METRICS) if shape == "narrow" else 1
                    results[f"{shape} {'staging+ON CONFLICT' if upsert else 'binary COPY'}"] = {
                        "rows_per_s": round(rows), "messages_per_s": round(rows / per_msg)}
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    print(f"{args.messages:,} messages of {len(METRICS)} metrics, batches of {args.batch_messages} messages, "
          f"median of {args.runs}")
    for name, r in results.items():
        print(f"  {name:32s} {r['rows_per_s']:>9,} rows/s  {r['messages_per_s']:>8,} messages/s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
