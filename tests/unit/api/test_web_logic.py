"""The dashboard's pure logic (api/web/js: device health, ranking order, rule names, labels of both
languages) under node's own test runner: tests/browser/logic.test.mjs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]


def test_the_pages_logic_under_node():
    node = shutil.which("node")
    assert node, "node is needed for the dashboard's logic tests (deploy/local/install.sh installs it)"
    run = subprocess.run([node, "--test", str(ROOT / "tests" / "browser" / "logic.test.mjs")], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout and "# pass 4" in run.stdout, run.stdout
