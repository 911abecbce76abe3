"""A real browser for the tests: Debian's Chromium, headless, driven by playwright-core through
tests/browser/driver.mjs (one JSON command per line). Skips nothing: a missing Chromium or
playwright-core is an error naming the install step."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "browser" / "driver.mjs"
CHROMIUM = Path("/usr/bin/chromium")


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self) -> None:
        missing = [what for what, ok in (
            (f"{CHROMIUM} (Debian's chromium: deploy/local/install.sh installs it)", CHROMIUM.exists()),
            ("node", shutil.which("node") is not None),
            ("web/node_modules/playwright-core (deploy/local/install.sh runs npm ci in web/)",
             (ROOT / "web" / "node_modules" / "playwright-core").is_dir())) if not ok]
        if missing:
            raise BrowserError("the browser tests need: " + "; ".join(missing))
        self.proc = subprocess.Popen(["node", str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=ROOT)

    def _call(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BrowserError(f"the browser driver ended (exit {self.proc.poll()}) during {cmd['op']}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise BrowserError(f"{cmd['op']} {cmd.get('js') or cmd.get('selector') or cmd.get('url') or ''}: "
                               f"{reply['error']}")
        return reply["value"]

    def open(self, url: str, width: int = 1600, height: int = 900) -> None:
        self._call(op="open", url=url, width=width, height=height)

    def eval(self, js: str):
        return self._call(op="eval", js=js)

    def wait(self, js: str, timeout_s: float = 10.0):
        """Until the expression is truthy in the page (polled every 100 ms); its value."""
        return self._call(op="wait", js=js, timeout_ms=int(timeout_s * 1000))

    def click(self, selector: str) -> None:
        self._call(op="click", selector=selector)

    def answer_dialogs(self, text: str) -> None:
        self._call(op="dialogs", answer=text)

    def screenshot(self, path: Path, full: bool = False) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._call(op="screenshot", path=str(path), full=full)
        return path

    def log(self) -> dict:
        return self._call(op="log")

    def close(self) -> None:
        try:
            self._call(op="close")
        except (BrowserError, BrokenPipeError, ValueError):
            pass
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
