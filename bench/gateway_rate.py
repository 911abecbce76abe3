"""Gateway throughput against the raw paho receive rate, measured in the same run.

Both drain the same backlog of N queued QoS 1 messages (one air-quality message of 8 metrics,
~230 bytes) from a persistent shared-subscription session on the local Mosquitto. The gateway's
rate runs from its first received message to Kafka's acknowledgement of the last one (its MQTT
ack counter), so process start-up is not counted. Median of `--runs` runs.

    .venv/bin/python -m bench.gateway_rate --messages 20000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.procstat import peak_rss_mb
from bench.mqtt_backlog import create_session, publish_backlog, raw_drain_rate
from simulators.fleet import load_fleet
from stack.broker_auth import local_access
from stack.settings import StackSettings
from telemetry.topics import shared_filter, uplink_topic

DEVICES = 600  # air-quality devices over the communes, as in bench.ingest and bench.e2e


def fleet_topics(root: str, fleet=None) -> list[str]:
    """The uplink topics of the benchmark's fleet (raw paho drains the same topics as the gateway)."""
    return [uplink_topic(d.district, d.device_id, root) for d in (fleet or load_fleet(DEVICES))]


def scrape(port: int) -> dict[str, float]:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("citysense_gateway_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def gateway_drain(access, bootstrap: str, n: int, processes: int = 1) -> tuple[float, list[float]]:
    """Queue n messages for a fresh gateway group, start `processes` gateways, time the drain."""
    run = uuid.uuid4().hex[:8]
    root, group = f"bench{run}", f"gw-bench-{run}"
    env_base = {**os.environ, **access.gateway_env(),
                "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CITYSENSE_GATEWAY_TOPIC_ROOT": root,
                "CITYSENSE_GATEWAY_TOPIC_PREFIX": f"bench{run}", "CITYSENSE_GATEWAY_SHARE_GROUP": group,
                "CITYSENSE_LOG_LEVEL": "WARNING"}
    ids = [f"gw-bench-{run}-{i}" for i in range(processes)]
    for cid in ids:
        create_session(access, cid, shared_filter(group, root))
    logs = Path(tempfile.mkdtemp(prefix="bench-gw-"))
    # today's communes, in a registry of the benchmark's own: the gateway must accept every message
    fleet = load_fleet(DEVICES)
    fleet.write(logs / "devices.json")
    env_base["CITYSENSE_REGISTRY"] = str(logs / "devices.json")
    publish_backlog(access, fleet_topics(root, fleet), n)
    procs, ports = [], []
    for i, cid in enumerate(ids):
        mport = 19150 + i
        env = {**env_base, "CITYSENSE_GATEWAY_CLIENT_ID": cid, "CITYSENSE_GATEWAY_METRICS_PORT": str(mport)}
        procs.append(subprocess.Popen([sys.executable, "-m", "cli.main", "gateway"], env=env,
                                      stdout=open(logs / f"{cid}.log", "wb"), stderr=subprocess.STDOUT))
        ports.append(mport)
    first = None
    rss = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        stats = [scrape(p) for p in ports]
        received = sum(s.get("citysense_gateway_received_messages_total", 0) for s in stats)
        acked = sum(s.get("citysense_gateway_mqtt_acks_total", 0) for s in stats)
        if first is None and received > 0:
            first = time.perf_counter()
        if acked >= n:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - first
    accepted = sum(s.get("citysense_gateway_accepted_messages_total", 0) for s in stats)
    if accepted != n:
        # a benchmark of the dead-letter path would pass for one of validation (it did: a registry
        # without the benchmark's devices rejected every message as unknown_device)
        raise RuntimeError(f"the gateways accepted {accepted:.0f} of {n} messages; their logs: {logs}")
    for p in procs:
        rss.append(peak_rss_mb(p.pid))
        p.terminate()
        p.wait(30)
    return n / elapsed, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--processes", type=int, nargs="+", default=[1])
    args = ap.parse_args()
    s = StackSettings()
    access = local_access(s)
    raw, gw = [], {p: [] for p in args.processes}
    peak = {p: 0.0 for p in args.processes}
    for _ in range(args.runs):
        cid = f"raw-{uuid.uuid4().hex[:8]}"
        root = f"rawbench{cid[4:]}"
        flt = shared_filter("rawbench", root)
        create_session(access, cid, flt)
        publish_backlog(access, fleet_topics(root), args.messages)
        raw.append(raw_drain_rate(access, cid, flt, args.messages))
        for p in args.processes:
            rate, rss = gateway_drain(access, s.kafka_bootstrap, args.messages, p)
            gw[p].append(rate)
            peak[p] = max(peak[p], *rss)
    raw_m = statistics.median(raw)
    report = {"messages": args.messages, "runs": args.runs, "raw_paho_msgs_per_s": round(raw_m),
              "raw_runs": [round(r) for r in raw], "gateway": {}}
    print(f"raw paho receive (MQTT 5, manual acks): {raw_m:,.0f} msg/s (runs {', '.join(f'{r:,.0f}' for r in raw)})")
    for p, rates in gw.items():
        m = statistics.median(rates)
        report["gateway"][p] = {"msgs_per_s": round(m), "readings_per_s": round(m * 8), "ratio_to_raw": round(m / raw_m, 3),
                                "runs": [round(r) for r in rates], "peak_rss_mb": round(peak[p])}
        print(f"gateway × {p}: {m:,.0f} msg/s = {m * 8:,.0f} readings/s (metrics) = {m / raw_m:.0%} of raw "
              f"(runs {', '.join(f'{r:,.0f}' for r in rates)}); peak RSS {peak[p]:.0f} MB per process")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
