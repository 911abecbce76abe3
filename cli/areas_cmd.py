"""`citysense areas list | locate`: the area set in use — communes, groups (former districts), the city."""

from __future__ import annotations

import argparse
import json

SET_HELP = "area set: hai-phong-2025 | hai-duong-2023 | a CSV path (default: $CITYSENSE_AREA_SET, else hai-phong-2025)"


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("areas", help="the areas devices belong to and readings roll up into")
    asub = a.add_subparsers(dest="action", required=True)
    ls = asub.add_parser("list", help="every area with its level and parent")
    ls.add_argument("--level", choices=["commune", "group", "city"])
    ls.add_argument("--under", type=int, help="only the communes under this area (a group, the city)")
    loc = asub.add_parser("locate", help="the commune whose boundary holds a point")
    loc.add_argument("lat", type=float)
    loc.add_argument("lon", type=float)
    for p in (ls, loc):
        p.add_argument("--area-set", help=SET_HELP)
        p.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    loc.set_defaults(func=run_locate)


def _row(areas, a) -> dict:
    return {"code": a.code, **areas.describe(a.code), "kind": a.kind, "parent": a.parent, "lat": a.lat, "lon": a.lon}


def run_list(args: argparse.Namespace) -> int:
    from telemetry.areas import AreaRegistry

    areas = AreaRegistry.configured(args.area_set)
    if args.under is not None and args.under not in areas:
        print(f"areas list: area {args.under} is not in the area set {areas.name}")
        return 2
    chosen = areas.communes_under(args.under) if args.under is not None else list(areas)
    rows = [_row(areas, a) for a in chosen if args.level is None or a.level.value == args.level]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['code']:>6d}  {r['level']:8s} {r['name']:34s} {r['kind']:16s} {r['group_name'] or ''}")
    print(f"{len(rows)} areas of {areas.name}")
    return 0


def run_locate(args: argparse.Namespace) -> int:
    from telemetry.areas import AreaRegistry, PlacementError

    areas = AreaRegistry.configured(args.area_set)
    try:
        row = _row(areas, areas.place(args.lat, args.lon))
    except PlacementError as exc:
        print(json.dumps({"error": str(exc)}, ensure_ascii=False) if args.json else f"areas locate: {exc}")
        return 1
    print(json.dumps(row, ensure_ascii=False) if args.json
          else f"{row['code']} {row['name']} ({row['kind']}), in {row['group_name'] or '–'}")
    return 0
