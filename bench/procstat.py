"""Peak resident memory of a process (VmHWM), for the benchmark reports."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0  # exited
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)
