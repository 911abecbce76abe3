"""Operators' contract tools: `citysense validate`, `citysense devices list`, `citysense aqi`."""

from __future__ import annotations

import argparse
import json
import sys

REGISTRY_HELP = ("device registry JSON (default: $CITYSENSE_REGISTRY, else .stack/registry/devices.json, "
                 "the file `citysense devices add` writes; the packaged sample while it does not exist)")


def _registry(path: str | None):
    from telemetry.registry_file import load_registry

    return load_registry(path)


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="validate one payload read on stdin; prints JSON, exit 1 when rejected")
    v.add_argument("--topic", required=True, help="the MQTT topic it was published on")
    v.add_argument("--registry", help=REGISTRY_HELP)
    v.add_argument("--area-set", help="area set (default: $CITYSENSE_AREA_SET, else hai-phong-2025)")
    v.set_defaults(func=run_validate)

    d = sub.add_parser("devices", help="the device registry")
    dsub = d.add_subparsers(dest="action", required=True)
    ls = dsub.add_parser("list", help="print the registry")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--registry", help=REGISTRY_HELP)
    ls.add_argument("--area-set", help="area set naming the areas (default: $CITYSENSE_AREA_SET, else hai-phong-2025)")
    d.set_defaults(func=run_devices)
    ls.set_defaults(func=run_devices)
    from cli import devices_cmd

    devices_cmd.register(dsub)

    a = sub.add_parser("aqi", help="VN_AQI from hourly or daily concentrations (JSON on stdin)")
    mode = a.add_mutually_exclusive_group(required=True)
    mode.add_argument("--hourly", action="store_true",
                      help='{"pm2_5": [c1..c12], "pm10": [...], "o3": x, "co": x, "so2": x, "no2": x}')
    mode.add_argument("--daily", action="store_true",
                      help='{"pm2_5": mean24h, "pm10": mean24h, "o3_1h_max": x, "o3_8h_max": x, '
                           '"co_1h_max": x, "so2_1h_max": x, "no2_1h_max": x}')
    a.set_defaults(func=run_aqi)


def run_validate(args: argparse.Namespace) -> int:
    from telemetry.areas import AreaRegistry
    from telemetry.validation import ValidationPolicy, validate

    policy = ValidationPolicy(areas=AreaRegistry.configured(args.area_set))
    result = validate(args.topic, sys.stdin.buffer.read(), _registry(args.registry), policy=policy)
    if hasattr(result, "readings"):
        out = {"accepted": True, "format": result.format.value,
               "readings": [r.model_dump(mode="json") for r in result.readings]}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(json.dumps({"accepted": False, **result.as_dict()}, ensure_ascii=False))
    return 1


def run_devices(args: argparse.Namespace) -> int:
    """The registry; with each device's area and group named from the area set (in JSON, beside the
    devices under "areas", so that the output still loads as a registry)."""
    from telemetry.areas import AreaRegistry

    registry = _registry(args.registry)
    areas = AreaRegistry.configured(args.area_set)
    named = {code: areas.describe(code) for code in sorted({d.district for d in registry})}
    if args.json:
        out = json.loads(registry.to_json())
        out["areas"] = {str(code): info for code, info in named.items()}
        print(json.dumps(out, ensure_ascii=False))
    else:
        for d in registry:
            a = named[d.district]
            where = a["name"] or f"(not in {areas.name})"
            print(f"{d.device_id:14s} {d.district:>5d} {where[:28]:28s} {(a['group_name'] or '')[:28]:28s} "
                  f"{d.kind:12s} {d.status:8s} {d.name or ''}")
    return 0


def run_aqi(args: argparse.Namespace) -> int:
    from telemetry.aqi import daily_aqi, hourly_aqi

    try:
        data = json.loads(sys.stdin.read())
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        if args.hourly:
            pm = {k: data[k] for k in ("pm2_5", "pm10") if data.get(k) is not None}
            for k, hours in pm.items():
                if not isinstance(hours, list):
                    raise ValueError(f"{k} must be a list of up to 12 hourly means, most recent first")
            result = hourly_aqi(pm, {k: data.get(k) for k in ("o3", "co", "so2", "no2")})
        else:
            result = daily_aqi(data)
    except (ValueError, TypeError) as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0
