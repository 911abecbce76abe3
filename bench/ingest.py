"""The ingest path alone (gateway -> Kafka -> sink, streams off), side by side with what a user would
pick instead for MQTT -> TimescaleDB: Telegraf (`mqtt_consumer` -> `postgresql`, bench/telegraf.py).

Both drain the same kind of backlog — N air-quality messages of the same payload, queued on the local
Mosquitto for a persistent QoS 1 session of the gateway's account — into a fresh database of the same
TimescaleDB. The rate runs from the start of the processes until the last row is in the table. CPU
seconds are counted for every process the path uses: its own, Mosquitto, Kafka (citysense only) and
the PostgreSQL server with all its backends (bench/procstat.py), before and after the drain.

    .venv/bin/python -m bench.ingest --messages 100000 [--telegraf]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench import telegraf
from bench.mqtt_backlog import create_session, publish_backlog
from bench.procstat import cpu_used, peak_rss_mb, stop_all, tree_cpu_seconds
from simulators.fleet import load_fleet
from stack.broker_auth import local_access
from stack.process import read_pid
from stack.settings import StackSettings
from storage import databases
from storage.registry_db import seed
from telemetry.areas import AreaRegistry
from telemetry.topics import shared_filter, uplink_filter, uplink_topic

DEVICES = 600


def stack_pids(s: StackSettings, services: tuple[str, ...]) -> dict[str, int]:
    pids = {name: read_pid(s.pid_file(name)) for name in services}
    missing = [name for name, pid in pids.items() if pid is None]
    if missing:
        raise SystemExit(f"bench.ingest: {', '.join(missing)} not running (no pid file in {s.run}); "
                         "start the local stack with `citysense stack up`")
    return pids  # type: ignore[return-value]


def _drain(dsn: str, count_sql: str, messages: int, procs: dict[str, subprocess.Popen], stack: dict[str, int],
           timeout_s: float, logs: Path) -> dict:
    """Wait until `count_sql` reaches `messages` (or the timeout); the rate and every process's CPU."""
    cpu_before = tree_cpu_seconds(list(stack.values()))
    started = time.monotonic()
    stored, first_row = 0, None
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() - started < timeout_s:
            try:
                stored = conn.execute(count_sql).fetchone()[0]
            except psycopg.errors.UndefinedTable:  # Telegraf creates its table with the first batch
                stored = 0
            if stored and first_row is None:
                first_row = time.monotonic() - started
            if stored >= messages:
                break
            if (ended := [n for n, p in procs.items() if p.poll() is not None]):
                raise SystemExit(f"bench.ingest: {', '.join(ended)} ended during the drain; see {logs}")
            time.sleep(0.2)
    seconds = time.monotonic() - started
    cpu = cpu_used(procs, stack, cpu_before)
    rss = {name: round(peak_rss_mb(p.pid)) for name, p in procs.items()}
    per_1000 = 1000 / max(stored, 1)
    return {"messages": messages, "stored": stored, "lost": messages - stored, "seconds": round(seconds, 2),
            "msgs_per_s": round(stored / seconds),
            "first_row_s": round(first_row or 0.0, 2), "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
            "own_cpu_s_per_1000": round(sum(cpu[n] for n in procs) * per_1000, 4),
            "all_cpu_s_per_1000": round(sum(cpu.values()) * per_1000, 4), "peak_rss_mb": rss}


def _with_backlog(messages: int, client_id: str, subscription: Callable[[str], str],
                  run: Callable[[StackSettings, object, str, str, Path], dict]) -> dict:
    """A fresh database and a backlog queued for `client_id`'s persistent session, then `run`."""
    s = StackSettings()
    access = local_access(s)
    tag = uuid.uuid4().hex[:8]
    root, db = f"ingest{tag}", f"bench_ingest_{tag}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    dsn = databases.create(s.database_url, db)
    try:
        fleet = load_fleet(DEVICES)
        fleet.write(tmp / "devices.json")
        seed(dsn, AreaRegistry.named(), fleet)
        create_session(access, client_id, subscription(root))
        publish_backlog(access, [uplink_topic(d.district, d.device_id, root) for d in fleet], messages, processes=2)
        return run(s, access, root, dsn, tmp)
    finally:
        databases.drop(s.database_url, db)


def citysense(messages: int, timeout_s: float = 900) -> dict:
    """One gateway and the sink (no streams) drain the backlog."""
    tag = uuid.uuid4().hex[:8]
    gw_id, group = f"gw-{tag}", f"ingest-{tag}"

    def run(s: StackSettings, access, root: str, dsn: str, tmp: Path) -> dict:
        env = {**os.environ, **access.gateway_env(),
               "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap, "CITYSENSE_DATABASE_URL": dsn,
               "CITYSENSE_REGISTRY": str(tmp / "devices.json"), "CITYSENSE_TOPIC_PREFIX": root,
               "CITYSENSE_GATEWAY_TOPIC_ROOT": root, "CITYSENSE_GATEWAY_CLIENT_ID": gw_id,
               "CITYSENSE_GATEWAY_SHARE_GROUP": group, "CITYSENSE_GATEWAY_SESSION_EXPIRY_S": "600",
               "CITYSENSE_STORAGE_GROUP_ID": f"ingest-sink-{tag}", "CITYSENSE_LOG_LEVEL": "WARNING",
               "CITYSENSE_GATEWAY_METRICS_PORT": "19194", "CITYSENSE_STORAGE_METRICS_PORT": "19195"}
        stack = stack_pids(s, ("mosquitto", "kafka", "postgres"))
        procs: dict[str, subprocess.Popen] = {}
        try:
            for name in ("sink", "gateway"):
                procs[name] = subprocess.Popen([sys.executable, "-m", "cli.main", name], env=env,
                                               stdout=open(tmp / f"{name}.log", "wb"), stderr=subprocess.STDOUT)
            return _drain(dsn, "SELECT count(*) FROM readings", messages, procs, stack, timeout_s, tmp)
        finally:
            stop_all(procs)

    return _with_backlog(messages, gw_id, lambda root: shared_filter(group, root), run)


def peer(messages: int, binary: Path, timeout_s: float = 900) -> dict:
    """Telegraf, tuned as in the issue, drains the same kind of backlog into its own table."""
    client_id = f"telegraf-{uuid.uuid4().hex[:8]}"

    def run(s: StackSettings, access, root: str, dsn: str, tmp: Path) -> dict:
        conf = tmp / "telegraf.conf"
        conf.write_text(telegraf.config(access, client_id, uplink_filter(root), dsn))
        stack = stack_pids(s, ("mosquitto", "postgres"))
        procs = {"telegraf": subprocess.Popen([str(binary), "--config", str(conf)],
                                              stdout=open(tmp / "telegraf.log", "wb"), stderr=subprocess.STDOUT)}
        try:
            out = _drain(dsn, f"SELECT count(*) FROM {telegraf.TABLE}", messages, procs, stack, timeout_s, tmp)
        finally:
            stop_all(procs)
        with psycopg.connect(dsn) as conn:  # what it stored: one row per message, a column per value
            cur = conn.execute(f"SELECT * FROM {telegraf.TABLE} LIMIT 1")
            columns = sorted(d.name for d in cur.description)
            distinct = conn.execute(f"SELECT count(DISTINCT (device_id, seq)) FROM {telegraf.TABLE}").fetchone()[0]
        return out | {"version": telegraf.version(binary), "config": telegraf.TUNING, "columns": columns,
                      "distinct_messages": distinct}

    return _with_backlog(messages, client_id, uplink_filter, run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--telegraf", action="store_true", help="also Telegraf (built once into its cache if missing)")
    args = ap.parse_args()
    out = {"citysense": citysense(args.messages)}
    if args.telegraf:
        out["telegraf"] = peer(args.messages, telegraf.binary(build=True))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
