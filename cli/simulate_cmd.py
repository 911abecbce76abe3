"""`citysense simulate setup | run`: the province simulator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.contracts_cmd import REGISTRY_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="a realistic province of devices publishing over MQTT")
    acts = p.add_subparsers(dest="action", required=True)
    s = acts.add_parser("setup", help="write the device registry of the simulated fleet")
    s.add_argument("--registry", type=Path, default=None, help=REGISTRY_HELP)
    s.add_argument("--load-devices", type=int, default=0, help="a load fleet of N air-quality devices instead")
    s.add_argument("--seed", type=int, default=7)
    r = acts.add_parser("run", help="publish: accelerated (default), realtime or load")
    r.add_argument("--mode", choices=("accelerated", "realtime", "load"), default="accelerated")
    r.add_argument("--registry", type=Path, default=None, help=REGISTRY_HELP)
    r.add_argument("--sim-hours", type=float, default=24, help="accelerated: simulated hours (ending now)")
    r.add_argument("--wall-seconds", type=float, default=120, help="accelerated: how long it takes")
    r.add_argument("--duration", type=float, default=60, help="realtime/load: seconds")
    r.add_argument("--rate", type=float, default=1000, help="load: messages/s in total")
    r.add_argument("--processes", type=int, default=1, help="load: publisher processes")
    r.add_argument("--hostile-share", type=float, default=0.01)
    r.add_argument("--fault-share", type=float, default=0.1)
    r.add_argument("--seed", type=int, default=7)
    r.add_argument("--root", default="citysense", help="MQTT topic root")
    r.add_argument("--json", action="store_true", help="print the final report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stack.broker_auth import local_access
    from stack.settings import StackSettings
    from telemetry.devices import DeviceRegistry
    from telemetry.paths import registry_path

    path = registry_path(args.registry)
    if args.action == "setup":
        from simulators.fleet import build_fleet, load_fleet

        fleet = load_fleet(args.load_devices) if args.load_devices else build_fleet(seed=args.seed)
        fleet.write(path)
        kinds = {}
        for d in fleet:
            kinds[d.kind.value] = kinds.get(d.kind.value, 0) + 1
        print(f"registry {path}: {len(fleet)} devices ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))})")
        return 0
    from simulators.province import SimConfig
    from simulators.runner import run_accelerated, run_load, run_realtime

    if not path.exists():
        print(f"no registry at {path}: run `citysense simulate setup` first", flush=True)
        return 1
    registry = DeviceRegistry.from_file(path)
    # Each device publishes with its own credentials (provisioned on the local broker if new).
    access = local_access(StackSettings(), [d.device_id for d in registry])
    cfg = SimConfig(seed=args.seed, hostile_share=args.hostile_share, fault_share=args.fault_share,
                    topic_root=args.root)
    if args.mode == "load":
        report = run_load(registry, access, rate=args.rate, duration_s=args.duration, processes=args.processes,
                          seed=args.seed, root=args.root)
    elif args.mode == "realtime":
        report = run_realtime(registry, access, duration_s=args.duration, cfg=cfg).as_dict()
    else:
        report = run_accelerated(registry, access, sim_hours=args.sim_hours, wall_s=args.wall_seconds,
                                 cfg=cfg).as_dict()
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:20s} {v}")
    return 0
