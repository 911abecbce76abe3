"""CPU time of a process tree (bench/procstat.py): a descendant's work counts for its root, whether it
is still running or already reaped; another tree's does not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bench.procstat import tree_cpu_seconds

pytestmark = pytest.mark.unit

BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n{then}"


def test_a_running_grandchild_and_a_reaped_child_count_for_the_root():
    # root -> child that burns 0.4 s and exits (reaped by root), and -> grandchild that burns 0.4 s and sleeps
    script = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {BURN.format(s=0.4, then='')!r}])\n"
        f"subprocess.Popen([sys.executable, '-c', {BURN.format(s=0.4, then='time.sleep(30)')!r}])\n"
        "time.sleep(30)\n")
    root = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", BURN.format(s=0.4, then="time.sleep(30)")])
    try:
        deadline = time.monotonic() + 15
        while ((cpu := tree_cpu_seconds([root.pid, other.pid]))[root.pid] < 0.8 or cpu[other.pid] < 0.4) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)  # all burnt: nothing more may be counted
        cpu = tree_cpu_seconds([root.pid, other.pid])
        assert 0.8 <= cpu[root.pid] < 1.15  # both descendants and three interpreters' start-up, not `other`
        assert 0.4 <= cpu[other.pid] < 0.7  # its own only
    finally:
        os.killpg(root.pid, signal.SIGKILL)  # the grandchild too
        other.kill()
        root.wait()
        other.wait()
