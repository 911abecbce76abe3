"""The API's latency on a realistic store and its live-events fan-out, each beside a floor measured
in the same run (not a test: `python -m bench.api_latency`, figures in docs/performance.md).

A fresh database with today's areas (114 communes, 27 groups, the city) and the demo's fleet, 30
days of hourly aggregates of every area (8 metrics) and hourly AQI, a day of raw readings of every
device (one each 5 min); a viewer key; `citysense api` as a process. Each endpoint is called
--requests times one after another: p50 and p95 of the wall time, and p50 as a ratio to two floors
— `/healthz` (HTTP, the framework, one `SELECT 1`) and the 30-day series' SQL run directly with
psycopg. Then --clients SSE clients of `/api/v1/events` (alerts) while --events alerts are produced
to Kafka, one each 20 ms: produce -> receipt by every client, p50/p95/max, beside the same with one
client (the floor: Kafka, one consumer, HTTP).

    .venv/bin/python -m bench.api_latency --requests 50 --clients 200 --events 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import orjson
import psycopg
from aiokafka import AIOKafkaProducer

from api import keys
from api.events import topics_of
from bench.procstat import peak_rss_mb
from runtime.kafka_topics import ensure_topics
from simulators.fleet import build_fleet
from stack.settings import StackSettings
from storage import databases
from storage.registry_db import seed
from telemetry.areas import AreaRegistry

RESULTS = Path(__file__).with_name("results")
METRICS = ("pm2_5", "pm10", "o3", "no2", "noise_laeq", "temperature", "wind_speed", "avg_speed")
SERIES_SQL = ("SELECT window_start, count, min, max, sum, mean, extra FROM aggregates WHERE district = 288 "
              "AND metric = 'pm2_5' AND window_s = 3600 AND window_start >= %s AND window_start < %s "
              "ORDER BY window_start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(dsn: str, now: datetime) -> dict[str, int]:
    """30 days of hourly windows and AQI of every area, a day of every device's readings (SQL-generated)."""
    hours = (now - timedelta(days=30), now - timedelta(hours=1))
    with psycopg.connect(dsn) as conn:
        conn.execute("""
            INSERT INTO aggregates (window_start, window_end, window_s, district, metric, count, min, max, sum, mean,
                                    level, parent, areas)
            SELECT h, h + interval '1 hour', 3600, a.code, m, 12, 10, 90,
                   12 * (40 + 20 * sin(extract(epoch FROM h) / 7200)), 40 + 20 * sin(extract(epoch FROM h) / 7200),
                   a.level, a.parent, CASE WHEN a.level = 'commune' THEN NULL ELSE 2 END
            FROM areas a, unnest(%s::text[]) AS m, generate_series(%s::timestamptz, %s, interval '1 hour') AS h""",
                     (list(METRICS), *hours))
        conn.execute("""
            INSERT INTO aqi (start, "end", period, district, aqi, level_vi, level_en, colour, dominant, sub_indices,
                             level, parent)
            SELECT h, h + interval '1 hour', 'hour', a.code, 100, 'Trung bình', 'Moderate', '{255,255,0}', 'pm2_5',
                   '{"pm2_5": 100}', a.level, a.parent
            FROM areas a, generate_series(%s::timestamptz, %s, interval '1 hour') AS h""", hours)
        conn.execute("""
            INSERT INTO readings (ts, device_id, district, kind, received_at, pm2_5)
            SELECT t, d.device_id, d.district, d.kind, t, 30 + 10 * random()
            FROM devices d, generate_series(%s::timestamptz, %s, interval '5 minutes') AS t""",
                     (now - timedelta(days=1), now))
        conn.commit()
        conn.execute("ANALYZE")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("aggregates", "aqi", "readings")}


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


def time_calls(client: httpx.Client, path: str, params: dict, n: int) -> dict:
    samples, size = [], 0
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path, params=params)
        samples.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        size = len(r.content)
    return {**percentiles(samples), "bytes": size}


async def fan_out(url: str, token: str, kafka: str, prefix: str, clients: int, events: int) -> dict:
    """Produce `events` alerts; the latency from each send to each client's receipt."""
    received: list[list[float]] = [[] for _ in range(clients)]
    sent_at: dict[str, float] = {}
    opened = asyncio.Semaphore(0)
    run = uuid.uuid4().hex[:6]

    async def client(i: int, http: httpx.AsyncClient) -> None:
        async with http.stream("GET", url + "/api/v1/events", params={"kind": "alert"},
                               headers={"Authorization": f"Bearer {token}"}) as r:
            async for line in r.aiter_lines():
                if line.startswith(": connected"):
                    opened.release()
                elif line.startswith("data: "):
                    alert_id = orjson.loads(line[6:])["alert_id"]
                    if alert_id in sent_at:
                        received[i].append(time.perf_counter() - sent_at[alert_id])
                    if len(received[i]) == events:
                        return

    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None),
                                 limits=httpx.Limits(max_connections=clients + 10)) as http:
        started = time.perf_counter()
        tasks = [asyncio.create_task(client(i, http)) for i in range(clients)]
        for _ in range(clients):
            await asyncio.wait_for(opened.acquire(), 300)
        connect_s = time.perf_counter() - started
        await asyncio.sleep(1.0)  # every consumer positioned at the topics' ends
        async with AIOKafkaProducer(bootstrap_servers=kafka, acks="all") as producer:
            for n in range(events):
                alert_id = f"fan-{run}-{n}"
                sent_at[alert_id] = time.perf_counter()
                await producer.send_and_wait(topics_of(prefix)["alert"], orjson.dumps(
                    {"v": 2, "alert_id": alert_id, "area": 10507, "district": 10507, "level": "commune"}),
                    key=b"10507")
                await asyncio.sleep(0.02)
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), 120)
        except TimeoutError:
            for t in tasks:
                t.cancel()
    flat = [x for r in received for x in r]
    return {"clients": clients, "events": events, "deliveries": len(flat), "expected": clients * events,
            "connect_all_s": round(connect_s, 1), **(percentiles(flat) if flat else {})}


def start_api(dsn: str, prefix: str, kafka: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CITYSENSE_API_PORT": str(port), "CITYSENSE_TOPIC_PREFIX": prefix,
           "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": kafka,
           "CITYSENSE_API_READ_DATABASE_URL": databases.as_role(dsn, "citysense_ro"),
           "CITYSENSE_API_ACTIONS_DATABASE_URL": databases.as_role(dsn, "citysense_api")}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "api"], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/healthz", timeout=1).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the API did not become healthy in 60 s: see {log}")


def measure(args) -> dict:
    stack = StackSettings()
    name, prefix = f"bench_api_{uuid.uuid4().hex[:8]}", f"benchapi{uuid.uuid4().hex[:6]}"
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    dsn = databases.create(stack.database_url, name)
    proc = None
    out_dir = RESULTS / f"api-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    out_dir.mkdir(parents=True)
    try:
        areas = AreaRegistry.named()
        fleet = build_fleet(areas)
        seed(dsn, areas, fleet)
        report: dict = {"date": now.isoformat(), "devices": len(fleet), "areas": len(list(areas)), "rows": load(dsn, now)}
        with psycopg.connect(dsn, autocommit=True) as conn:
            token = keys.create(conn, "bench", keys.Role.VIEWER)[1]
        proc, url = start_api(dsn, prefix, stack.kafka_bootstrap, out_dir / "api.log")
        month = {"from": (now - timedelta(days=30)).isoformat(), "to": now.isoformat()}
        day = {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
        calls = {
            "healthz (floor)": ("/healthz", {}),
            "areas/31 (the city's state)": ("/api/v1/areas/31", {}),
            "areas/10507 (a commune's state)": ("/api/v1/areas/10507", {}),
            "areas/288/series pm2_5 30 d 1h": ("/api/v1/areas/288/series", {"metric": "pm2_5", "bucket": "1h", **month}),
            "areas/288/series noise 30 d 1d": ("/api/v1/areas/288/series", {"metric": "noise_laeq", "bucket": "1d",
                                                                            **month}),
            "areas/10507/aqi 30 d": ("/api/v1/areas/10507/aqi", month),
            "devices?area=288": ("/api/v1/devices", {"area": 288}),
            "completeness?area=288 24 h": ("/api/v1/completeness", {"area": 288, **day}),
            "alerts?state=all": ("/api/v1/alerts", {"state": "all"}),
            "exports/readings.csv area=288 24 h": ("/api/v1/exports/readings.csv", {"area": 288, **day}),
        }
        report["endpoints"] = {}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for label, (path, params) in calls.items():
                client.get(path, params=params)  # warm: plans cached, pages in memory
                report["endpoints"][label] = time_calls(client, path, params, args.requests)
        with psycopg.connect(databases.as_role(dsn, "citysense_ro")) as conn:
            samples = []
            for _ in range(args.requests):
                t = time.perf_counter()
                conn.execute(SERIES_SQL, (now - timedelta(days=30), now)).fetchall()
                samples.append(time.perf_counter() - t)
            report["sql_floor"] = percentiles(samples)
        health, sql_floor = report["endpoints"]["healthz (floor)"]["p50_ms"], report["sql_floor"]["p50_ms"]
        for r in report["endpoints"].values():
            r["x_healthz"], r["x_sql"] = round(r["p50_ms"] / health, 1), round(r["p50_ms"] / sql_floor, 1)
        asyncio.run(ensure_topics(stack.kafka_bootstrap, {t: 12 for t in topics_of(prefix).values()}))
        report["sse_one"] = asyncio.run(fan_out(url, token, stack.kafka_bootstrap, prefix, 1, args.events))
        report["sse"] = asyncio.run(fan_out(url, token, stack.kafka_bootstrap, prefix, args.clients, args.events))
        report["api_peak_rss_mb"] = round(peak_rss_mb(proc.pid), 1)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        databases.drop(stack.database_url, name)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2))
    return report


def text(report: dict) -> str:
    lines = [f"rows: {report['rows']} ({report['areas']} areas, {report['devices']} devices)",
             f"{'endpoint':38s} {'p50 ms':>8s} {'p95 ms':>8s} {'× healthz':>10s} {'× SQL':>7s} {'bytes':>11s}"]
    for label, r in report["endpoints"].items():
        lines.append(f"{label:38s} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['x_healthz']:10.1f} {r['x_sql']:7.1f} "
                     f"{r['bytes']:11,d}")
    f = report["sql_floor"]
    lines.append(f"{'SQL floor: the 30 d series query':38s} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f}")
    for key in ("sse_one", "sse"):
        s = report[key]
        lines.append(f"SSE {s['clients']:>3d} clients × {s['events']} alerts: {s['deliveries']:,}/{s['expected']:,} "
                     f"delivered, produce → client p50 {s.get('p50_ms')} ms, p95 {s.get('p95_ms')} ms, "
                     f"max {s.get('max_ms')} ms; all connected in {s['connect_all_s']} s")
    lines.append(f"API peak RSS {report['api_peak_rss_mb']} MB")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--events", type=int, default=100)
    args = ap.parse_args()
    print(text(measure(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
