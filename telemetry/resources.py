"""Read the package's data files (lazily, on first use: nothing is read at import time)."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import Any


def data_text(name: str) -> str:
    return resources.files("telemetry").joinpath("data", name).read_text(encoding="utf-8")


def data_path(name: str) -> Path:
    """The path of a packaged data file (it may not exist: callers check)."""
    return Path(str(resources.files("telemetry").joinpath("data", name)))


def data_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(data_text(name).splitlines()))


def data_json(name: str) -> Any:
    return json.loads(data_text(name))
