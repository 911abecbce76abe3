"""Events/s of one streams worker: N readings queued in Kafka (600 devices over the 114 communes, air
quality, 8 metrics; roll-ups to the groups and the city on), then one worker processes them; timed from
its first processed batch to the last (its metrics).

    .venv/bin/python -m bench.streams_rate --readings 100000
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from bench.procstat import peak_rss_mb
from runtime.kafka_topics import ensure_topics
from simulators.fleet import load_fleet
from stack.settings import StackSettings
from telemetry.topics import district_key

DEVICES = 600  # air-quality devices over today's communes, one reading a minute each (as bench.e2e)
METRICS = {"pm2_5": 41.3, "pm10": 60.2, "co": 812.0, "no2": 40.1, "so2": 10.4, "o3": 50.0, "temperature": 21.5,
           "humidity": 70.0}


async def produce(bootstrap: str, topic: str, n: int) -> float:
    await ensure_topics(bootstrap, {topic: 12})
    fleet = list(load_fleet(DEVICES))
    step = timedelta(seconds=60 / len(fleet))
    t0 = datetime.now(timezone.utc) - step * n
    start = time.perf_counter()
    async with AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                                max_batch_size=512 * 1024) as producer:
        futures = []
        for i in range(n):
            d = fleet[i % len(fleet)]
            ts = (t0 + step * i).isoformat()
            r = {"v": 1, "device_id": d.device_id, "district": d.district, "kind": "air_quality", "ts": ts,
                 "received_at": ts, "seq": i, "status": "measuring", "metrics": METRICS, "format": "native"}
            futures.append(await producer.send(topic, orjson.dumps(r), key=district_key(d.district)))
        for f in futures:
            await f
    return n / (time.perf_counter() - start)


def processed(port: int) -> float:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return 0.0
    return next((float(line.split()[-1]) for line in text.splitlines()
                 if line.startswith("citysense_streams_readings_total")), 0.0)


def measure(bootstrap: str, n: int) -> tuple[float, float, float]:
    """Queue n readings, run one worker on them: (worker readings/s, producer alone/s, peak RSS MB)."""
    run = uuid.uuid4().hex[:8]
    topic = f"bench{run}.readings.v1"
    produce_rate = asyncio.run(produce(bootstrap, topic, n))
    port = 19170
    tmp = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    load_fleet(DEVICES).write(tmp / "devices.json")  # the worker knows the devices, as in production
    env = {**os.environ, "CITYSENSE_REGISTRY": str(tmp / "devices.json"),
           "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CITYSENSE_STREAMS_TOPIC_PREFIX": f"bench{run}",
           "CITYSENSE_STREAMS_APP_ID": f"bench-{run}", "CITYSENSE_STREAMS_METRICS_PORT": str(port),
           "CITYSENSE_STREAMS_DATA_DIR": str(tmp), "CITYSENSE_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "streams"], env=env,
                            stdout=open(tmp / "worker.log", "wb"), stderr=subprocess.STDOUT)
    first = None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        got = processed(port)
        if first is None and got > 0:
            first = (time.perf_counter(), got)
        if got >= n:
            break
        time.sleep(0.1)
    rate = (n - first[1]) / (time.perf_counter() - first[0])
    rss = peak_rss_mb(proc.pid)
    proc.terminate()
    proc.wait(30)
    return rate, produce_rate, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=100_000)
    args = ap.parse_args()
    rate, produce_rate, rss = measure(StackSettings().kafka_bootstrap, args.readings)
    print(f"queued {args.readings:,} readings at {produce_rate:,.0f}/s (aiokafka producer alone)")
    print(f"one streams worker: {rate:,.0f} readings/s = {rate * 8:,.0f} values/s; peak RSS {rss:.0f} MB")
    print(json.dumps({"readings": args.readings, "worker_readings_per_s": round(rate),
                      "producer_alone_per_s": round(produce_rate), "peak_rss_mb": round(rss)}))


if __name__ == "__main__":
    main()
