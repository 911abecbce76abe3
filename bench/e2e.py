"""End to end on the local stack: (1) drain a backlog of N messages queued in the broker for the
gateway's persistent session while the platform is stopped, until every reading is in TimescaleDB;
(2) a live simulator at half that rate for 60 s: publish-to-row latency and window-end-to-row
latency. Peak RSS of each process. Returns the figures and time series for the plot."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

from bench.mqtt_backlog import create_session, publish_backlog
from simulators.fleet import load_fleet
from simulators.runner import run_load
from stack.broker_auth import local_access
from stack.process import read_pid
from stack.settings import StackSettings
from bench.procstat import cpu_used, peak_rss_mb, stop_all, tree_cpu_seconds
from storage import databases
from storage.registry_db import seed
from telemetry.areas import AreaRegistry
from telemetry.topics import shared_filter, uplink_topic

LATENESS_S = 30


def _healthy(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
    except OSError:
        return False


def run_e2e(messages: int = 100_000, devices: int = 600, latency_s: float = 60, live_share: float = 0.5) -> dict:
    s = StackSettings()
    access = local_access(s)
    run = uuid.uuid4().hex[:8]
    root, db = f"e2ebench{run}", f"bench_e2e_{run}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    fleet = load_fleet(devices)
    fleet.write(tmp / "devices.json")
    dsn = databases.create(s.database_url, db)
    procs: dict[str, subprocess.Popen] = {}
    try:
        seed(dsn, AreaRegistry.named(), fleet)
        gw_id, group = f"gw-{run}", f"bench-{run}"
        create_session(access, gw_id, shared_filter(group, root))
        topics = [uplink_topic(d.district, d.device_id, root) for d in fleet]
        publish_rate = publish_backlog(access, topics, messages, processes=2)
        env = {**os.environ, **access.gateway_env(),
               "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap, "CITYSENSE_DATABASE_URL": dsn,
               "CITYSENSE_REGISTRY": str(tmp / "devices.json"), "CITYSENSE_TOPIC_PREFIX": root,
               "CITYSENSE_GATEWAY_TOPIC_ROOT": root, "CITYSENSE_GATEWAY_CLIENT_ID": gw_id,
               "CITYSENSE_GATEWAY_SHARE_GROUP": group, "CITYSENSE_GATEWAY_SESSION_EXPIRY_S": "600",
               "CITYSENSE_STREAMS_APP_ID": f"bench-streams-{run}", "CITYSENSE_STREAMS_DATA_DIR": str(tmp / "faust"),
               "CITYSENSE_STORAGE_GROUP_ID": f"bench-sink-{run}", "CITYSENSE_LOG_LEVEL": "WARNING",
               "CITYSENSE_GATEWAY_METRICS_PORT": "19191", "CITYSENSE_STREAMS_METRICS_PORT": "19192",
               "CITYSENSE_STORAGE_METRICS_PORT": "19193",
               "CITYSENSE_STREAMS_ALLOWED_LATENESS_S": str(LATENESS_S)}
        stack = {name: pid for name in ("mosquitto", "kafka", "postgres") if (pid := read_pid(s.pid_file(name)))}
        stack_cpu_before = tree_cpu_seconds(list(stack.values()))
        t_start = time.monotonic()
        for name in ("sink", "streams", "gateway"):  # the gateway last: nothing waits for a consumer
            procs[name] = subprocess.Popen([sys.executable, "-m", "cli.main", name], env=env,
                                           stdout=open(tmp / f"{name}.log", "wb"), stderr=subprocess.STDOUT)
        series = []
        with psycopg.connect(dsn, autocommit=True) as conn:
            first_row = None
            while time.monotonic() - t_start < 1800:
                n = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
                now = time.monotonic() - t_start
                series.append((now, n))
                if n and first_row is None:
                    first_row = now
                if n >= messages:
                    break
                time.sleep(0.5)
            drain_end = time.monotonic() - t_start
            stored = n
        drain_rate = stored / drain_end
        cpu = cpu_used(procs, stack, stack_cpu_before)
        rss_drain = {name: peak_rss_mb(p.pid) for name, p in procs.items()}
        # (2) live load at half the drain rate, timestamps = publish time
        live_rate = max(50.0, drain_rate * live_share)
        phase_start = time.time()
        load = run_load(fleet, access, rate=live_rate, duration_s=latency_s,
                        processes=2 if live_rate > 3000 else 1, seed=11, root=root)
        time.sleep(LATENESS_S + 15)
        with psycopg.connect(dsn, autocommit=True) as conn:
            lat = conn.execute("""
                SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts)),
                       count(*) FROM readings WHERE ts >= to_timestamp(%s)""", (phase_start,)).fetchone()
            win = conn.execute("""
                SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
                       (ORDER BY extract(epoch FROM stored_at - window_end) - %s), count(*)
                FROM aggregates WHERE window_s = 60 AND window_end > to_timestamp(%s)""",
                               (LATENESS_S, phase_start)).fetchone()
            agg_total, agg_last = conn.execute("SELECT count(*), max(window_start) FROM aggregates").fetchone()
            lat_series = conn.execute("""
                SELECT extract(epoch FROM date_trunc('second', ts)) - %s AS t,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts))
                FROM readings WHERE ts >= to_timestamp(%s) GROUP BY 1 ORDER BY 1""", (phase_start, phase_start)).fetchall()
        rss_all = {name: peak_rss_mb(p.pid) for name, p in procs.items()}
        return {
            "backlog_messages": messages, "devices": devices, "backlog_publish_rate": round(publish_rate),
            "drain_seconds": round(drain_end, 1), "drain_msgs_per_s": round(drain_rate),
            "drain_values_per_s": round(drain_rate * 8), "stored": stored, "lost": messages - stored,
            "first_row_after_s": round(first_row or 0, 1),
            "live_rate_target": round(live_rate), "live_published": load["published"],
            "latency_p50_s": round(lat[0][0], 3), "latency_p95_s": round(lat[0][1], 3),
            "latency_p99_s": round(lat[0][2], 3), "latency_rows": lat[1],
            "window_to_row_p50_s": round(win[0][0], 3) if win[1] else None,
            "window_to_row_p99_s": round(win[0][2], 3) if win[1] else None, "windows": win[1],
            "aggregates_total": agg_total, "aggregates_last_window": str(agg_last), "phase_start": phase_start,
            "cpu_s_drain": {k: round(v, 2) for k, v in cpu.items()},
            "cpu_s_per_1000_drain": round(sum(cpu.values()) * 1000 / max(stored, 1), 4),
            "rss_mb_drain": {k: round(v) for k, v in rss_drain.items()},
            "rss_mb_all": {k: round(v) for k, v in rss_all.items()},
            "series_drain": series, "series_latency": [(float(t), p50, p99) for t, p50, p99 in lat_series],
        }
    finally:
        stop_all(procs)
        databases.drop(s.database_url, db)
