"""`citysense db migrate | status | seed | retention`, `citysense sink`, `citysense query …`."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import datetime, timedelta, timezone

from cli.contracts_cmd import REGISTRY_HELP


def duration(text: str) -> timedelta:
    """'90s', '5m', '1h', '24h', '7d' -> timedelta."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30s, 5m, 1h, 7d")
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m[2]]: float(m[1])})


def when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return datetime.now(timezone.utc) - duration(text)  # "2h" = two hours ago
    return value if value.tzinfo else value.replace(tzinfo=timezone(timedelta(hours=7)))


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the TimescaleDB schema (settings: CITYSENSE_DATABASE_URL)")
    dbs = db.add_subparsers(dest="action", required=True)
    dbs.add_parser("migrate", help="apply the SQL migrations that are missing (idempotent)")
    st = dbs.add_parser("status", help="server, TimescaleDB edition and path taken, migrations")
    st.add_argument("--json", action="store_true")
    seed = dbs.add_parser("seed", help="write the area set and the device registry into the database")
    seed.add_argument("--registry", help=REGISTRY_HELP)
    seed.add_argument("--area-set", help="hai-phong-2025 | hai-duong-2023 | a CSV path (default: $CITYSENSE_AREA_SET, "
                                         "else hai-phong-2025)")
    dbs.add_parser("retention", help="drop chunks older than the retention settings (Apache edition)")
    db.set_defaults(func=run_db)

    sink = sub.add_parser("sink", help="run the Kafka -> TimescaleDB sink (settings: CITYSENSE_STORAGE_*)")
    sink.set_defaults(func=run_sink)

    q = sub.add_parser("query", help="the operations centre's queries")
    qs = q.add_subparsers(dest="what", required=True)
    p = qs.add_parser("latest", help="latest value of each metric in an area (and the areas below it)")
    _scope(p, required=True)
    p = qs.add_parser("series", help="time_bucket series of a metric over an area's devices (and those below it)")
    _scope(p, required=True)
    p.add_argument("--metric", required=True)
    p.add_argument("--from", dest="start", type=when, default=None, help="ISO time (local +07:00 if no offset) or 6h")
    p.add_argument("--to", dest="end", type=when, default=None)
    p.add_argument("--bucket", type=duration, default=timedelta(minutes=5))
    _scope(qs.add_parser("aqi", help="areas ranked by current hourly AQI"))
    p = qs.add_parser("alerts", help="alerts (open ones with --open)")
    p.add_argument("--open", action="store_true")
    _scope(p)
    p = qs.add_parser("silent", help="devices with no data for N minutes")
    p.add_argument("--minutes", type=float, default=10)
    _scope(p)
    p = qs.add_parser("rejects", help="dead-letter counts by reason")
    p.add_argument("--since", type=duration, default=timedelta(hours=1))
    _scope(p)
    p = qs.add_parser("quarantine", help="records the database refused (error, Kafka coordinates)")
    p.add_argument("--since", type=duration, default=timedelta(hours=24))
    p = qs.add_parser("completeness", help="share of expected readings received, per device and area")
    p.add_argument("--since", type=duration, default=timedelta(hours=24))
    p.add_argument("--hourly", action="store_true", help="per commune and whole hour instead")
    _scope(p)
    for parser in qs.choices.values():
        parser.add_argument("--json", action="store_true")
    q.set_defaults(func=run_query)

    a = sub.add_parser("audit", help="per device: sequence numbers stored, gaps, duplicates removed, rejects by reason")
    a.add_argument("--since", type=duration, default=timedelta(hours=24))
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=run_audit)


def _scope(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """--area CODE (any level: a commune, a group with its communes, the city; --district is its former
    name) or --group CODE (the same, refused unless CODE is a group)."""
    g = parser.add_mutually_exclusive_group(required=required)
    g.add_argument("--area", "--district", dest="area", type=int, help="area code (`citysense areas list`)")
    g.add_argument("--group", type=int, help="a group's code (a former district): its communes")


def _settings():
    from storage.settings import StorageSettings

    return StorageSettings()


def run_db(args: argparse.Namespace) -> int:
    import psycopg

    from storage import migrate

    s = _settings()
    try:
        if args.action == "migrate":
            done = migrate.migrate(s.dsn)
            print("applied: " + (", ".join(done) if done else "nothing (up to date)"))
            print(f"edition: {migrate.status(s.dsn)['path']}")
        elif args.action == "status":
            report = migrate.status(s.dsn)
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                print(f"PostgreSQL {report['postgresql']}, TimescaleDB {report['timescaledb']} ({report['edition']})")
                print(f"path: {report['path']}")
                for m in report["migrations"]:
                    state = "applied" if m["applied"] else "skipped (needs the community edition)" if m["skipped"] \
                        else "PENDING"
                    print(f"  {m['file']:32s} {state}")
        elif args.action == "seed":
            from storage.exceptions import SeedError
            from storage.registry_db import seed
            from telemetry.areas import AreaRegistry
            from telemetry.registry_file import load_registry

            devices = load_registry(args.registry or s.registry)
            areas = AreaRegistry.configured(args.area_set)
            try:
                n_areas, n_devices = seed(s.dsn, areas, devices)
            except SeedError as exc:
                print(f"citysense db seed: {exc}", file=sys.stderr)
                return 2
            print(f"registry in the database: {n_areas} areas of {areas.name}, {n_devices} devices")
        else:
            from storage.retention import run_retention

            print(json.dumps(run_retention(s)))
    except psycopg.OperationalError as exc:
        from telemetry.secrets import redact_dsn

        print(f"citysense db {args.action}: cannot connect to PostgreSQL at {redact_dsn(s.dsn)} ({exc}). "
              "Is the stack up (`citysense stack up`, log .stack/logs/postgres.log)?", file=sys.stderr)
        return 1
    return 0


def run_sink(args: argparse.Namespace) -> int:
    from cli.services_cmd import _until_signalled
    from storage.sink import Sink

    return asyncio.run(_until_signalled(Sink(_settings()).run))


def _print(rows, as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if isinstance(rows, dict):
        rows = rows.get("districts", [])
    if not rows:
        print("(nothing)")
        return
    cols = list(rows[0])
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(width[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(width[c]) for c in cols))


def run_query(args: argparse.Namespace) -> int:
    from storage import queries

    s = _settings()
    with queries.connect(s.dsn) as conn:
        area = getattr(args, "area", None)
        if getattr(args, "group", None) is not None:
            if queries.level(conn, args.group) != "group":
                print(f"citysense query {args.what}: {args.group} is not a group in the database's areas "
                      "(`citysense areas list --level group`; `citysense db seed` writes them)", file=sys.stderr)
                return 2
            area = args.group
        if args.what == "latest":
            rows = queries.latest(conn, area)
        elif args.what == "series":
            end = args.end or datetime.now(timezone.utc)
            start = args.start or end - timedelta(hours=6)
            rows = queries.series(conn, area, args.metric, start, end, f"{args.bucket.total_seconds()} seconds")
        elif args.what == "aqi":
            rows = queries.aqi_ranking(conn, area)
        elif args.what == "alerts":
            rows = queries.alerts(conn, only_open=args.open, area=area)
        elif args.what == "silent":
            rows = queries.silent(conn, args.minutes, area=area)
        elif args.what == "rejects":
            rows = queries.rejects(conn, args.since, area=area)
        elif args.what == "quarantine":
            rows = queries.quarantine(conn, args.since)
        elif args.hourly:
            rows = queries.completeness_hourly(conn, args.since, area=area)
        else:
            rows = queries.completeness(conn, args.since, area=area)
    _print(rows, args.json)
    return 0


def _clock(clock: dict | None) -> str:
    """'ok', 'fast +120s', 'slow -180s' (the gateway's last judgement), '–' when never judged."""
    if clock is None:
        return "–"
    return clock["state"] if clock["state"] == "ok" else f"{clock['state']} {clock['skew_s']:+.0f}s"


def run_audit(args: argparse.Namespace) -> int:
    import psycopg

    from storage.audit import audit

    with psycopg.connect(_settings().dsn, connect_timeout=5) as conn:
        report = audit(conn, args.since)
    if args.json:
        print(json.dumps(report, default=str, ensure_ascii=False, indent=2))
        return 0
    print(f"{'device':16s} {'seq':>15s} {'stored':>7s} {'missing':>7s} {'doubled':>7s} {'quarant':>7s} "
          f"{'clock':>11s} {'legacy':>6s}  gaps / rejects")
    for d in report:
        seq = f"{d['first_seq']}–{d['last_seq']}" if d["first_seq"] is not None else "–"
        gaps = ", ".join(f"{a}–{b}" if a != b else f"{a}" for a, b in d["gaps"])
        rej = ", ".join(f"{k} {v}" for k, v in d["rejected"].items())
        print(f"{d['device_id'][:16]:16s} {seq:>15s} {d['stored']:>7d} {str(d['missing']):>7s} "
              f"{d['duplicates_removed']:>7d} {d['quarantined']:>7d} {_clock(d['clock']):>11s} "
              f"{(d['legacy_topic'] or {}).get('readings', 0):>6d}  "
              f"{gaps}{' | ' if gaps and rej else ''}{rej}")
    lost = sum(d["missing"] or 0 for d in report)
    doubled = sum(d["duplicates_removed"] for d in report)
    quarantined = sum(d["quarantined"] for d in report)
    legacy = [d["device_id"] for d in report if d["legacy_topic"]]
    print(f"{len(report)} devices; sequence numbers missing in storage: {lost}; duplicate deliveries removed: {doubled}; "
          f"quarantined: {quarantined}")
    if legacy:
        print(f"{len(legacy)} devices publish under their former district's topic (legacy column; reconfigure them "
              f"to their commune's code): {', '.join(legacy[:20])}{' …' if len(legacy) > 20 else ''}")
    return 0
