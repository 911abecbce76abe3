"""Markers by folder: tests/unit -> unit, tests/integration -> integration."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        rel = Path(item.fspath).relative_to(HERE).parts
        if rel and rel[0] in ("unit", "integration"):
            item.add_marker(getattr(pytest.mark, rel[0]))
