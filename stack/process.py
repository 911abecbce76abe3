"""Start and stop daemons by pid file (never by process name), and wait for them to answer."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def pid_alive(pid: int, expect_in_cmdline: str | None = None) -> bool:
    """True when `pid` runs and, if given, its command line contains `expect_in_cmdline`.

    The command-line check guards against a recycled pid after a reboot: it only confirms the pid
    from our own pid file, it never searches processes by name.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if expect_in_cmdline is None:
        return True
    cmdline = ""
    for _ in range(20):  # empty for an instant while a just-spawned process is still in exec()
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return False
        if cmdline:
            break
        time.sleep(0.01)
    if Path(f"/proc/{pid}/stat").exists():
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        if state == "Z":
            return False
    return expect_in_cmdline in cmdline


def running_pid(pid_file: Path, expect_in_cmdline: str | None = None) -> int | None:
    pid = read_pid(pid_file)
    if pid is not None and pid_alive(pid, expect_in_cmdline):
        return pid
    return None


def spawn(
    argv: Sequence[str],
    pid_file: Path,
    log_file: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> int:
    """Start `argv` detached (own session), output appended to `log_file`, pid written to `pid_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv is built by the stack, not from user input
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            user=user,
            start_new_session=True,
        )
    pid_file.write_text(f"{proc.pid}\n")
    logger.info("started %s (pid %d), log %s", argv[0], proc.pid, log_file)
    return proc.pid


def stop_pid_file(
    pid_file: Path,
    *,
    expect_in_cmdline: str | None = None,
    sig: int = signal.SIGTERM,
    timeout_s: float = 30.0,
) -> bool:
    """Stop the process named by `pid_file`; SIGKILL after `timeout_s`. Returns True if one was stopped."""
    pid = running_pid(pid_file, expect_in_cmdline)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid, expect_in_cmdline):
            break
        time.sleep(0.1)
    else:
        logger.warning("pid %d did not stop in %.0f s, sending SIGKILL", pid, timeout_s)
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def foreign_listener(service: str, host: str, ports: Sequence[int], pid_file: Path, setting: str) -> str | None:
    """Before a service is started: why it must not be, if one of its ports already answers although
    its pid file names no running process (a program this stack did not start, or one it lost
    track of). Starting anyway would leave clients talking to that program."""
    taken = [port for port in ports if port_open(host, port)]
    if not taken:
        return None
    return (f"port {taken[0]} on {host} is already in use by a process this stack did not start "
            f"(its pid file {pid_file} names none). Find it with `ss -ltnp 'sport = :{taken[0]}'` and stop "
            f"it, or give {service} other ports ({setting})")


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return True
        except Exception as exc:  # a readiness probe may raise while the service starts
            logger.debug("readiness probe: %s", exc)
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def log_tail(log_file: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log file)"
