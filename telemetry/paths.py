"""Where a checkout keeps its local files: the repository root, the local data folder (`.stack/`),
and the one device registry that every command and service reads by default."""

from __future__ import annotations

import os
from pathlib import Path


def find_repo_root(start: Path | None = None) -> Path:
    """The checkout that holds deploy/local (the stack's files); falls back to the working directory."""
    candidates = [start or Path.cwd(), Path(__file__).resolve().parent.parent]
    for base in candidates:
        for folder in [base, *base.parents]:
            if (folder / "deploy" / "local" / "install.sh").is_file():
                return folder
    return Path.cwd()


def local_data_dir() -> Path:
    """`$CITYSENSE_STACK_DATA_DIR`, else `<checkout>/.stack` (the local stack's data folder)."""
    configured = os.environ.get("CITYSENSE_STACK_DATA_DIR")
    return Path(configured).resolve() if configured else (find_repo_root() / ".stack").resolve()


def registry_path(explicit: str | Path | None = None) -> Path:
    """The device registry: an explicit path (a `--registry` option, a service's setting), else
    `$CITYSENSE_REGISTRY`, else `<data dir>/registry/devices.json` — the file `citysense devices add`
    writes. While that file does not exist, readers get the packaged sample (telemetry/registry_file.py)."""
    if explicit:
        return Path(explicit)
    configured = os.environ.get("CITYSENSE_REGISTRY")
    return Path(configured) if configured else local_data_dir() / "registry" / "devices.json"
