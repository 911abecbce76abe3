"""Entry point of the `citysense` console script."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each subcommand lives in its own module with a `register(subparsers)` function.
COMMAND_MODULES = ["cli.stack_cmd", "cli.contracts_cmd", "cli.services_cmd", "cli.storage_cmd", "cli.simulate_cmd", "cli.demo_cmd"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citysense", description="citysense smart-city sensor data platform")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from cli import logs

    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `citysense … | head` ends quietly
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
