"""`citysense stack up [--profile production] | status [--json] | down`."""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stack", help="the local stack: Mosquitto, Kafka (KRaft), PostgreSQL + TimescaleDB")
    actions = p.add_subparsers(dest="action", required=True)
    up = actions.add_parser("up", help="install what is missing, start every service, wait until each answers")
    up.add_argument("--profile", choices=("local", "production"), default="local",
                    help="production: also the rehearsal's 3-node Kafka cluster (SASL/SCRAM over TLS, ACLs) and "
                         "Mosquitto with TLS and dynamic security (docs/scaling.md)")
    st = actions.add_parser("status", help="endpoints of each service and whether it answers")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    actions.add_parser("down", help="stop what the stack started (by pid file)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stack import control
    from stack.exceptions import StackError
    from stack.settings import StackSettings

    settings = StackSettings()
    if args.action == "up":
        started = time.monotonic()
        try:
            results = (control.up_production if args.profile == "production" else control.up)(settings)
        except StackError as exc:
            print(f"citysense stack up: {exc}", file=sys.stderr)
            return 1
        for name, state in results.items():
            print(f"{name:10s} {state}")
        print(f"stack up in {time.monotonic() - started:.1f} s; data and logs in {settings.root}")
        return 0
    if args.action == "down":
        for name, stopped in control.down(settings).items():
            print(f"{name:10s} {'stopped' if stopped else 'was not running'}")
        return 0
    report = control.status_dict(settings)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for s in report["services"]:
            state = "answers" if s["answers"] else "DOWN"
            pid = f"pid {s['pid']}" if s["pid"] else "no pid"
            print(f"{s['service']:10s} {state:8s} {s['endpoint']:45s} {s['managed']:8s} {pid}")
    return 0 if all(s["answers"] for s in report["services"]) else 1
