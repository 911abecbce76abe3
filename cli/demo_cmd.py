"""`citysense demo`: the whole platform on today's simulated city (the 114 communes of Hải Phòng),
then the tables of what it saw and the links to the operations centre's dashboard.

Brings the local stack up, migrates, writes the simulated fleet's registry (file and database),
starts a gateway, a streams worker and a sink (topics and consumer groups of their own for this
run), publishes an accelerated day (24 h of simulated time in about two minutes), waits until
everything is stored, prints one row per former district (group), the city, the ten worst communes
and the totals with the dashboard's links (a viewer's and an operator's key), then — from a
terminal — keeps the platform and the dashboard running until Ctrl-C; when its output is not a
terminal it stops what it started (unless --keep-running, which leaves it running detached).
A simulated day in two minutes is 12 minutes of event time per wall second: the demo's windows
are 15 minutes and an hour.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


DEMO_DB = "citysense_demo"
API = "http://127.0.0.1:19104"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole platform on today's simulated city and print what it saw")
    p.add_argument("--sim-hours", type=float, default=24)
    p.add_argument("--wall-seconds", type=float, default=120)
    p.add_argument("--keep-running", action="store_true", help="leave gateway, streams, sink and API running")
    p.add_argument("--no-colour", action="store_true")
    p.set_defaults(func=run)


def _service(name: str, command: list[str], env: dict, logs: Path, run_dir: Path) -> subprocess.Popen:
    log = open(logs / f"demo-{name}.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", *command], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    (run_dir / f"demo-{name}.pid").write_text(f"{proc.pid}\n")
    return proc


def _healthy(port: int) -> bool:
    import urllib.request

    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
    except OSError:
        return False


def _hold(procs: dict[str, subprocess.Popen], logs: Path) -> None:
    """Until Ctrl-C, or until a service exits (said, with its log)."""
    try:
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"the {name} exited ({proc.returncode}): see {logs}/demo-{name}.log", file=sys.stderr)
                    return
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping the demo's services …", flush=True)


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(what)


def run(args: argparse.Namespace) -> int:
    import psycopg

    from api import keys as api_keys
    from cli.demo_report import group_rows, render, report_hour, worst_communes
    from simulators.fleet import build_fleet
    from simulators.province import SimConfig
    from simulators.runner import run_accelerated
    from stack import control
    from stack.broker_auth import local_access
    from stack.settings import StackSettings
    from storage import databases
    from storage.registry_db import seed
    from telemetry.areas import AreaRegistry

    started = time.monotonic()
    stack = StackSettings()
    print("1/6 local stack …", flush=True)
    control.up(stack)
    # The demo gets a database of its own, made afresh each run: a second run re-simulates the same
    # hours, whose windows would otherwise meet the first run's under the same unique keys.
    print(f"2/6 database {DEMO_DB}: migrations and the fleet's registry …", flush=True)
    dsn = databases.create(stack.database_url, DEMO_DB, replace=True)
    registry_file = stack.root / "registry" / "devices.json"
    fleet = build_fleet()
    fleet.write(registry_file)
    seed(dsn, AreaRegistry.named(), fleet)

    run_id = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    access = local_access(stack, [d.device_id for d in fleet])  # per-device credentials on the broker
    env = {**os.environ, **access.gateway_env(),
           "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "CITYSENSE_DATABASE_URL": dsn,
           "CITYSENSE_REGISTRY": str(registry_file), "CITYSENSE_TOPIC_PREFIX": f"demo{run_id}",
           "CITYSENSE_GATEWAY_CLIENT_ID": f"demo-gw-{run_id}",
           "CITYSENSE_GATEWAY_SESSION_EXPIRY_S": "600",
           # A day in two minutes puts every reading's time up to a day behind its reception: a device
           # clock cannot be judged against the wall clock here (the dashboard would flag them all).
           "CITYSENSE_GATEWAY_CLOCK_SKEW_TOLERANCE_S": str(int(args.sim_hours * 3600) + 3600),
           # A day in two minutes: a few hundred ms of delivery jitter is minutes of event time.
           "CITYSENSE_STREAMS_ALLOWED_LATENESS_S": "900", "CITYSENSE_STREAMS_APP_ID": f"demo-streams-{run_id}",
           "CITYSENSE_STREAMS_WINDOW_SIZES_S": "[900, 3600]",
           "CITYSENSE_STREAMS_DATA_DIR": str(stack.root / "streams"), "CITYSENSE_STORAGE_GROUP_ID": f"demo-sink-{run_id}",
           "CITYSENSE_STORAGE_SINK_DATABASE_URL": databases.as_role(dsn, "citysense_sink"),
           "CITYSENSE_API_READ_DATABASE_URL": databases.as_role(dsn, "citysense_ro"),
           "CITYSENSE_API_ACTIONS_DATABASE_URL": databases.as_role(dsn, "citysense_api")}
    stack.logs.mkdir(parents=True, exist_ok=True)
    print(f"3/6 gateway, streams, sink and API (logs {stack.logs}/demo-*.log) …", flush=True)
    procs = {name: _service(name, [name], env, stack.logs, stack.run) for name in ("gateway", "streams", "sink", "api")}
    with psycopg.connect(dsn, autocommit=True) as conn:
        _, viewer_key = api_keys.create(conn, "demo viewer", api_keys.Role.VIEWER)
        _, operator_key = api_keys.create(conn, "demo operator", api_keys.Role.OPERATOR)
    since = datetime.now(timezone.utc)
    try:
        for name, mport in (("gateway", 19101), ("streams", 19102), ("sink", 19103), ("api", 19104)):
            _wait(lambda: _healthy(mport) or procs[name].poll() is not None, 120, f"{name} healthy")
            if procs[name].poll() is not None:
                print(f"the {name} exited: see {stack.logs}/demo-{name}.log", file=sys.stderr)
                return 1
        print(f"4/6 simulating {args.sim_hours:g} h of the province in {args.wall_seconds:g} s …", flush=True)
        report = run_accelerated(fleet, access, sim_hours=args.sim_hours, wall_s=args.wall_seconds,
                                 cfg=SimConfig(), client_id=f"demo-sim-{run_id}")
        print("5/6 waiting until everything is stored …", flush=True)
        expected = report.accepted_keys

        def stored_keys() -> set:
            with psycopg.connect(dsn) as conn:
                return set(conn.execute("SELECT DISTINCT device_id, ts FROM readings").fetchall())

        deadline = time.monotonic() + 180
        keys = stored_keys()
        while time.monotonic() < deadline and not expected <= keys:
            time.sleep(1)
            keys = stored_keys()
        # the last windows, AQI and alerts, and the roll-ups after them (two more hops): until the
        # latest hour every commune has is rolled up to the city, at most two minutes more
        deadline = time.monotonic() + 120
        with psycopg.connect(dsn, autocommit=True) as conn:
            latest, complete = report_hour(conn, since)
            while (latest is None or complete != latest) and time.monotonic() < deadline:
                time.sleep(1)
                latest, complete = report_hour(conn, since)
        with psycopg.connect(dsn) as conn:
            hour = complete or latest
            if hour != latest:
                print(f"(the roll-ups of the latest hour were not complete after two minutes: see {stack.logs}/"
                      "demo-streams.log; reporting the latest complete hour)", file=sys.stderr)
            groups, worst = group_rows(conn, since, hour), worst_communes(conn, hour)
            rejected = dict(conn.execute("SELECT reason, count(*) FROM deadletters WHERE stored_at >= %s GROUP BY 1",
                                         (since,)).fetchall())
        lost = len(expected - keys)
        print("6/6 what the operations centre sees:\n")
        print(render(hour, groups, worst, report.as_dict(), len(keys & expected), lost, rejected,
                     colour=not args.no_colour and sys.stdout.isatty()))
        hold = sys.stdout.isatty() and not args.keep_running
        print(f"\nthe dashboard (open in a browser on this machine; the key is in the link):\n"
              f"  viewer    {API}/#key={viewer_key}\n  operator  {API}/#key={operator_key}  (acts on alerts)\n"
              f"  wall mode {API}/?wall=1#key={viewer_key}")
        print(f"the API: {API}/api/v1/areas/31 (OpenAPI /api/v1/openapi.json), with the header "
              f"Authorization: Bearer {viewer_key}" + ("" if args.keep_running or hold else
                                                       " — running until the demo ends; --keep-running keeps it"))
        print(f"\nthe demo took {time.monotonic() - started:.0f} s; its data: {stack.database_url_display.rsplit('/', 1)[0]}"
              f"/{DEMO_DB} (e.g. CITYSENSE_DATABASE_URL=… citysense query aqi)")
        if hold:
            print("\nthe platform and the dashboard keep running; Ctrl-C stops them", flush=True)
            _hold(procs, stack.logs)
        return 0 if lost == 0 else 1
    finally:
        if not args.keep_running:
            for name, proc in procs.items():
                proc.terminate()
            for name, proc in procs.items():
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                (stack.run / f"demo-{name}.pid").unlink(missing_ok=True)
        else:
            print(f"still running (pid files {stack.run}/demo-*.pid); stop them with `kill $(cat {stack.run}/demo-*.pid)`")

