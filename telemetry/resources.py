"""Read the package's data files (lazily, on first use: nothing is read at import time)."""

from __future__ import annotations

import csv
import json
from importlib import resources
from typing import Any


def data_text(name: str) -> str:
    return resources.files("telemetry").joinpath("data", name).read_text(encoding="utf-8")


def data_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(data_text(name).splitlines()))


def data_json(name: str) -> Any:
    return json.loads(data_text(name))
