"""`citysense api` (the HTTP API, settings CITYSENSE_API_*) and `citysense api-keys create | list |
revoke` (the owner's connection, CITYSENSE_DATABASE_URL: keys are shown once, stored hashed)."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("api", help="run the operations centre's HTTP API (settings: CITYSENSE_API_*)")
    a.set_defaults(func=run_api)
    k = sub.add_parser("api-keys", help="API keys: create, list, revoke")
    ks = k.add_subparsers(dest="what", required=True)
    c = ks.add_parser("create", help="a new key (printed once)")
    c.add_argument("consumer", help="who uses it: a department, an agency, a program")
    c.add_argument("--role", choices=["viewer", "operator", "admin"], default="viewer")
    c.add_argument("--json", action="store_true")
    ls = ks.add_parser("list", help="keys (ids, consumers, roles; never the secrets)")
    ls.add_argument("--json", action="store_true")
    r = ks.add_parser("revoke", help="revoke a key at once")
    r.add_argument("key_id")
    k.set_defaults(func=run_keys)


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
        if keys.revoke(conn, args.key_id):
            print(f"key {args.key_id} revoked")
            return 0
        print(f"no active key {args.key_id} (citysense api-keys list)", file=sys.stderr)
        return 1
