"""Pid-file handling of the local stack, with real short-lived processes (no services)."""

import subprocess
import sys

from stack.process import pid_alive, read_pid, running_pid, spawn, stop_pid_file


def test_spawn_and_stop_by_pid_file(tmp_path):
    pid_file, log = tmp_path / "run" / "sleeper.pid", tmp_path / "logs" / "sleeper.log"
    pid = spawn([sys.executable, "-c", "import time; print('hi', flush=True); time.sleep(60)"], pid_file, log)
    assert read_pid(pid_file) == pid
    assert running_pid(pid_file, "time.sleep") == pid
    assert stop_pid_file(pid_file, expect_in_cmdline="time.sleep", timeout_s=5)
    assert not pid_file.exists()
    assert not pid_alive(pid, "time.sleep")


def test_pid_of_another_program_is_not_ours(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pid_file = tmp_path / "x.pid"
        pid_file.write_text(str(proc.pid))
        # The pid runs, but it is not the program the pid file claims: never signal it.
        assert running_pid(pid_file, "mosquitto") is None
        assert stop_pid_file(pid_file, expect_in_cmdline="mosquitto") is False
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_missing_or_garbage_pid_file(tmp_path):
    assert read_pid(tmp_path / "none.pid") is None
    (tmp_path / "bad.pid").write_text("not a pid")
    assert read_pid(tmp_path / "bad.pid") is None
