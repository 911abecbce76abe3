"""Entry point of the `citysense` console script."""

from __future__ import annotations

import argparse
from importlib.metadata import version
import faulthandler
import importlib
import os
import select
import sys

# Each subcommand lives in its own module with a `register(subparsers)` function.
COMMAND_MODULES = ["cli.stack_cmd", "cli.contracts_cmd", "cli.areas_cmd", "cli.services_cmd", "cli.storage_cmd", "cli.simulate_cmd", "cli.demo_cmd",
                   "cli.api_cmd"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citysense", description="citysense smart-city sensor data platform")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"citysense {version('citysense')}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _stdout_closed() -> bool:
    """True when stdout is a pipe (or socket) whose reader went away: poll reports an error on it."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (OSError, ValueError):  # no real file behind stdout
        return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail too (Python's
    documented recipe, "Note on SIGPIPE")."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    from cli import logs
    from runtime import secret_files

    faulthandler.enable()  # a crash in native code leaves its Python stack in the service's log
    # SIGPIPE stays ignored (Python's default). With the signal's default action, a service writing
    # to a socket its peer had just closed (the gateway acknowledging to a Mosquitto that was
    # restarting) was killed on the spot, without a line in its log.
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose)
    try:
        secret_files.load()  # CITYSENSE_…_FILE: secrets mounted as files (containers)
    except secret_files.SecretFileError as exc:
        print(f"citysense: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a socket's, not ours to hide
        _silence_stdout()  # `citysense … | head`: the reader left; end quietly
        return 1


if __name__ == "__main__":
    sys.exit(main())
