"""`citysense devices add | rotate | revoke`: the registry file and the broker's credentials in one step.

`add` writes the device into the registry (the gateway and streams reload it when it changes),
creates its MQTT account and prints its password once; `rotate` replaces the password; `revoke`
marks the device revoked in the registry (the gateway rejects its readings as unknown_device) and
deletes its account (the broker refuses its next connection). The local broker is restarted gracefully to read them (stack/broker_auth.py says why not SIGHUP).
"""

from __future__ import annotations

import argparse
import json

from cli.contracts_cmd import REGISTRY_HELP


def register(dsub: argparse._SubParsersAction) -> None:
    add = dsub.add_parser("add", help="register a device and create its MQTT account (prints the password once)")
    add.add_argument("device_id")
    add.add_argument("--kind", required=True, help="air_quality | weather | noise | water_level | traffic")
    add.add_argument("--lat", type=float, help="where it stands (WGS 84): places it in the commune whose boundary "
                                              "contains the point")
    add.add_argument("--lon", type=float)
    add.add_argument("--area", "--district", dest="area", type=int,
                     help="its commune's code, overriding --lat/--lon (`citysense areas list`); --district is the "
                          "former name")
    add.add_argument("--area-set", help="area set (default: $CITYSENSE_AREA_SET, else hai-phong-2025)")
    add.add_argument("--name")
    rot = dsub.add_parser("rotate", help="give a device a new MQTT password (the old one stops working)")
    rot.add_argument("device_id")
    rev = dsub.add_parser("revoke", help="revoke a device: registry status revoked, MQTT account deleted")
    rev.add_argument("device_id")
    for p in (add, rot, rev):
        p.add_argument("--registry", help=REGISTRY_HELP)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=run)


def _area(args: argparse.Namespace):
    """The device's area: --area when given (it must be in the set), else the commune holding --lat/--lon."""
    from telemetry.areas import AreaRegistry

    areas = AreaRegistry.configured(args.area_set)
    if args.area is not None:
        if args.area not in areas:
            raise ValueError(f"area {args.area} is not in the area set {areas.name} (`citysense areas list`)")
        return areas.get(args.area)
    if args.lat is None or args.lon is None:
        raise ValueError("give --lat and --lon (the device is placed in the commune there) or --area CODE")
    return areas.place(args.lat, args.lon)


def run(args: argparse.Namespace) -> int:
    from stack import broker_auth
    from stack.settings import StackSettings
    from telemetry.devices import Device, DeviceRegistry, DeviceStatus
    from telemetry.paths import registry_path
    from telemetry.registry_file import load_registry

    settings = StackSettings()
    path = registry_path(args.registry)
    registry = load_registry(path)
    devices = {d.device_id: d for d in registry}
    out: dict = {"device_id": args.device_id, "registry": str(path)}
    try:
        if args.action == "add":
            broker_auth.check_name(args.device_id)
            area = _area(args)
            out.update(area=area.code, area_name=area.name, level=area.level.value)
            device = Device(device_id=args.device_id, district=area.code, kind=args.kind, name=args.name,
                            lat=args.lat, lon=args.lon)
            devices[device.device_id] = device
            if args.device_id in broker_auth.load(settings)["devices"]:
                out["password"] = broker_auth.rotate_device(settings, args.device_id)
            else:
                out["password"] = broker_auth.provision_devices(settings, [args.device_id])[args.device_id]
        elif args.action == "rotate":
            out["password"] = broker_auth.rotate_device(settings, args.device_id)
        else:
            if args.device_id in devices:
                devices[args.device_id] = devices[args.device_id].model_copy(update={"status": DeviceStatus.REVOKED})
            out["account_deleted"] = broker_auth.revoke_device(settings, args.device_id)
    except (broker_auth.AccountError, ValueError) as exc:
        print(f"devices {args.action}: {exc}")
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    DeviceRegistry(list(devices.values())).write(path)
    out["broker_reloaded"] = broker_auth.reload_broker(settings)
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:16s} {value}")
        if "password" in out:
            print("(shown once: give it to the device; the broker keeps only a hash)")
    return 0
