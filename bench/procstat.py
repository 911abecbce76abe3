"""The benchmarks' processes: peak resident memory (VmHWM), CPU time, stopping them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0  # exited
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and of its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15), counted from state = 0
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS


def tree_cpu_seconds(roots: list[int]) -> dict[int, float]:
    """CPU seconds used so far by each process and all its descendants (a PostgreSQL server's backends,
    a Java process's threads are in its own figure). Take it before and after a run: the difference
    is what the run cost (a descendant that ended in between is in its parent's reaped children)."""
    stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(int(p))) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    for root in roots:
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
                todo.extend(children.get(pid, ()))
        out[root] = total
    return out


def cpu_used(procs: dict[str, subprocess.Popen], stack: dict[str, int], stack_before: dict[int, float]) -> dict[str, float]:
    """CPU seconds by name: the run's own processes (started for it: all they used) and the stack's
    (what they used since `stack_before`, a `tree_cpu_seconds` of their pids)."""
    own = tree_cpu_seconds([p.pid for p in procs.values()])
    now = tree_cpu_seconds(list(stack.values()))
    return {name: own[p.pid] for name, p in procs.items()} | {name: now[pid] - stack_before[pid]
                                                               for name, pid in stack.items()}


def stop_all(procs: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to all, then up to 30 s each to end, then SIGKILL."""
    for p in procs.values():
        p.terminate()
    for p in procs.values():
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
