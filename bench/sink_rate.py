"""The sink's rows/s against a plain binary COPY of the same rows into the same table, same run.

N readings (air quality, 8 metrics, wide rows) are queued in Kafka; in a fresh migrated database:
(1) psycopg binary COPY of the same rows straight into `readings` (the raw limit), truncated;
(2) the sink's idempotent write alone, without Kafka (storage.writer.BatchWriter: COPY straight in,
    staging + INSERT … ON CONFLICT for a batch that meets stored rows), truncated;
(3) the sink process drains the topic (timed from its first batch to the last row, by its metrics).

    .venv/bin/python -m bench.sink_rate --readings 200000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from bench.streams_rate import produce
from bench.procstat import peak_rss_mb
from storage import databases
from storage.rows import READINGS, reading_row
from storage.writer import BatchWriter
from stack.settings import StackSettings


def fetch_rows(bootstrap: str, topic: str, n: int) -> list[tuple]:
    from aiokafka import AIOKafkaConsumer

    async def run() -> list[tuple]:
        c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             group_id=f"bench-read-{uuid.uuid4().hex[:6]}", enable_auto_commit=False)
        await c.start()
        out = []
        try:
            while len(out) < n:
                for recs in (await c.getmany(timeout_ms=1000, max_records=10000)).values():
                    out += [reading_row(orjson.loads(r.value)) for r in recs]
        finally:
            await c.stop()
        return out

    return asyncio.run(run())


def plain_copy(dsn: str, rows: list[tuple], batch: int) -> float:
    cols = sql.SQL(", ").join(map(sql.Identifier, READINGS.columns))
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE readings")
        conn.commit()
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            with conn.cursor().copy(sql.SQL("COPY readings ({}) FROM STDIN (FORMAT BINARY)").format(cols)) as cp:
                cp.set_types(list(READINGS.types))
                for row in rows[i:i + batch]:
                    cp.write_row(row)
            conn.commit()
        rate = len(rows) / (time.perf_counter() - start)
        conn.execute("TRUNCATE readings")
        conn.commit()
    return rate


def staged_upsert(dsn: str, rows: list[tuple], batch: int) -> float:
    async def run() -> float:
        w = BatchWriter(dsn, [READINGS])
        await w.connect()
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            await w.write({READINGS: rows[i:i + batch]})
        rate = len(rows) / (time.perf_counter() - start)
        await w.close()
        return rate

    rate = asyncio.run(run())
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE readings")
    return rate


def sink_rate(dsn: str, bootstrap: str, prefix: str, n: int) -> tuple[float, float]:
    port = 19180
    env = {**os.environ, "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CITYSENSE_STORAGE_TOPIC_PREFIX": prefix,
           "CITYSENSE_STORAGE_DATABASE_URL": dsn, "CITYSENSE_STORAGE_GROUP_ID": f"bench-sink-{prefix}",
           "CITYSENSE_STORAGE_METRICS_PORT": str(port), "CITYSENSE_LOG_LEVEL": "WARNING"}
    log = Path(tempfile.mkdtemp(prefix="bench-sink-")) / "sink.log"
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "sink"], env=env, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT)

    def written() -> float:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            return 0.0
        return sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith('citysense_sink_rows_written_total{table="readings"}'))

    first = None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        w = written()
        if first is None and w > 0:
            first = (time.perf_counter(), w)
        if w >= n:
            break
        time.sleep(0.05)
    rate = (n - first[1]) / (time.perf_counter() - first[0])
    rss = peak_rss_mb(proc.pid)
    proc.terminate()
    proc.wait(30)
    return rate, rss


def measure(s: StackSettings, n: int, batch: int = 5000, with_psql=None) -> dict:
    """Queue n readings; in a fresh migrated database: plain COPY, the idempotent write, (psql), the sink."""
    run = uuid.uuid4().hex[:8]
    prefix = f"benchsink{run}"
    asyncio.run(produce(s.kafka_bootstrap, f"{prefix}.readings.v1", n))
    rows = fetch_rows(s.kafka_bootstrap, f"{prefix}.readings.v1", n)
    out = {}
    with databases.scratch(s.database_url, f"bench_{run}") as dsn:
        out["copy"] = plain_copy(dsn, rows, batch)
        if with_psql:
            out["psql"] = with_psql(dsn, rows)
        out["upsert"] = staged_upsert(dsn, rows, batch)
        out["sink"], out["rss"] = sink_rate(dsn, s.kafka_bootstrap, prefix, n)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=5000)
    args = ap.parse_args()
    r = measure(StackSettings(), args.readings, args.batch)
    copy, upsert, sink, rss = r["copy"], r["upsert"], r["sink"], r["rss"]
    report = {"rows": args.readings, "plain_binary_copy_rows_per_s": round(copy),
              "idempotent_write_rows_per_s": round(upsert), "sink_rows_per_s": round(sink),
              "sink_ratio_to_copy": round(sink / copy, 3), "sink_peak_rss_mb": round(rss)}
    print(f"{args.readings:,} wide reading rows (8 metrics each), batches of {args.batch}")
    print(f"  plain binary COPY into readings      {copy:>10,.0f} rows/s")
    print(f"  the idempotent write alone           {upsert:>10,.0f} rows/s ({upsert / copy:.0%} of COPY)")
    print(f"  sink from Kafka (idempotent)         {sink:>10,.0f} rows/s ({sink / copy:.0%} of COPY); RSS {rss:.0f} MB")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
