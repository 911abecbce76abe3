"""`citysense api` (the HTTP API, settings CITYSENSE_API_*) and `citysense api-keys create | list |
revoke | report` (the owner's connection, CITYSENSE_DATABASE_URL: keys are shown once, stored hashed;
the report tells per consumer what was read, from the access log)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("api", help="run the operations centre's HTTP API (settings: CITYSENSE_API_*)")
    a.set_defaults(func=run_api)
    k = sub.add_parser("api-keys", help="API keys: create, list, revoke; report what each consumer read")
    ks = k.add_subparsers(dest="what", required=True)
    c = ks.add_parser("create", help="a new key (printed once)")
    c.add_argument("consumer", help="who uses it: a department, an agency, a program")
    c.add_argument("--role", choices=["viewer", "operator", "admin"], default="viewer")
    c.add_argument("--json", action="store_true")
    ls = ks.add_parser("list", help="keys (ids, consumers, roles; never the secrets)")
    ls.add_argument("--json", action="store_true")
    r = ks.add_parser("revoke", help="revoke a key at once")
    r.add_argument("key_id")
    rp = ks.add_parser("report", help="per consumer, what was read: interface, entity type, calls, rows")
    rp.add_argument("--since", default="30d", type=_since, help="how far back: 30d, 12h, 90m (default 30d)")
    rp.add_argument("--json", action="store_true")
    k.set_defaults(func=run_keys)


def _since(text: str) -> timedelta:
    """30d, 12h, 90m -> a timedelta (argparse's type: a bad value is a usage error naming it)."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30d, 12h or 90m")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def _report(conn, args: argparse.Namespace) -> int:
    """Decree 278/2025/NĐ-CP asks that sharing be traceable: per consumer (keyless open data as
    '(public)'), interface and entity type, the calls, rows returned, calls refused, first and last."""
    rows = conn.execute("""
        SELECT coalesce(consumer, '(public)'), interface, coalesce(entity_type, route), count(*),
               coalesce(sum(rows), 0)::bigint, count(*) FILTER (WHERE status >= 400), min(at), max(at)
        FROM api_access_log WHERE at >= now() - %s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", (args.since,)).fetchall()
    if args.json:
        print(json.dumps([{"consumer": c, "interface": i, "entity_type": e, "calls": n, "rows": r, "refused": x,
                           "first": f.isoformat(), "last": la.isoformat()} for c, i, e, n, r, x, f, la in rows]))
        return 0
    print(f"{'consumer':24s} {'interface':10s} {'entity type (or route)':34s} {'calls':>7s} {'rows':>10s} "
          f"{'refused':>7s}  last")
    for c, i, e, n, r, x, _, la in rows:
        print(f"{c[:24]:24s} {i:10s} {e[:34]:34s} {n:7,d} {r:10,d} {x:7,d}  {la:%Y-%m-%d %H:%M}")
    if not rows:
        print(f"no calls in the last {args.since}")
    return 0


def run_api(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import build_app
    from api.settings import ApiSettings

    settings = ApiSettings()
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False,
                lifespan="on")
    return 0


def run_keys(args: argparse.Namespace) -> int:
    import psycopg

    from api import keys
    from storage.settings import StorageSettings

    with psycopg.connect(StorageSettings().dsn, autocommit=True) as conn:
        if args.what == "create":
            key_id, token = keys.create(conn, args.consumer, keys.Role.named(args.role))
            if args.json:
                print(json.dumps({"key_id": key_id, "consumer": args.consumer, "role": args.role, "token": token}))
            else:
                print(f"key {key_id} for {args.consumer} ({args.role}); keep it, it is not shown again:\n{token}")
            return 0
        if args.what == "list":
            rows = keys.listing(conn)
            if args.json:
                print(json.dumps([{"key_id": k, "consumer": c, "role": r, "created_at": t.isoformat(), "created_by": cb,
                                   "revoked_at": v.isoformat() if v else None, "revoked_by": vb}
                                  for k, c, r, t, cb, v, vb in rows]))
            else:
                for k, c, r, t, cb, v, vb in rows:
                    print(f"{k}  {r:8s}  {c}  created {t:%Y-%m-%d %H:%M}" + (f" by key {cb}" if cb else "")
                          + (f"  revoked {v:%Y-%m-%d %H:%M}" if v else "") + (f" by key {vb}" if vb else ""))
            return 0
        if args.what == "report":
            return _report(conn, args)
        if keys.revoke(conn, args.key_id):
            print(f"key {args.key_id} revoked")
            return 0
        print(f"no active key {args.key_id} (citysense api-keys list)", file=sys.stderr)
        return 1
