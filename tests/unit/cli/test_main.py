"""The `citysense` entry point and SIGPIPE: a closed stdout ends a command quietly, and the signal
itself never kills a citysense process (it once killed the gateway when Mosquitto restarted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest


def test_closed_stdout_ends_quietly():
    """`citysense devices list | head`: the reader left before the command wrote."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write fails with EPIPE
    try:
        out = subprocess.run([sys.executable, "-m", "cli.main", "devices", "list", "--json"], stdout=write_end,
                             stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert out.returncode == 1, f"killed by signal {-out.returncode}" if out.returncode < 0 else out.returncode
    assert out.stderr == b""  # no traceback, no "Exception ignored"


def test_sigpipe_is_not_fatal():
    """A service writing to a socket its peer just closed gets EPIPE, which its code handles; with
    SIGPIPE's default action the process would die first, silently."""
    code = ("import os, signal, sys\n"
            "from unittest import mock\n"
            "import cli.main\n"
            "def probe(args):\n"
            "    os.kill(os.getpid(), signal.SIGPIPE)\n"
            "    print(signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN)\n"
            "    return 0\n"
            "with mock.patch('cli.contracts_cmd.run_devices', probe):\n"
            "    sys.exit(cli.main.main(['devices', 'list']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert out.returncode == 0, f"killed by signal {-out.returncode}" if out.returncode < 0 else out.stderr
    assert out.stdout.strip() == b"True"


@pytest.mark.parametrize("broken", [False, True])
def test_a_socket_broken_pipe_is_not_hidden(broken, monkeypatch):
    """Only a closed stdout is swallowed; a BrokenPipeError from anything else propagates."""
    import cli.main

    def fail(args):
        raise BrokenPipeError("socket")

    monkeypatch.setattr("cli.contracts_cmd.run_devices", fail)
    monkeypatch.setattr(cli.main, "_stdout_closed", lambda: broken)
    monkeypatch.setattr(cli.main, "_silence_stdout", lambda: None)  # keep pytest's stdout
    if broken:
        assert cli.main.main(["devices", "list"]) == 1
    else:
        with pytest.raises(BrokenPipeError):
            cli.main.main(["devices", "list"])
