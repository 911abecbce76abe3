"""A device registry loaded from a file and reloaded when the file changes (so `citysense devices
add | revoke` takes effect without a restart). Every command and service reads the same file by
default (telemetry/paths.py: `registry_path`); while it does not exist, the packaged sample stands in,
and the file is read as soon as it appears."""

from __future__ import annotations

import logging
from pathlib import Path

from telemetry.devices import DeviceRegistry, sample_registry
from telemetry.paths import registry_path

logger = logging.getLogger(__name__)


def load_registry(path: str | Path | None = None) -> DeviceRegistry:
    """The registry at `path` (default: `registry_path()`), or the packaged sample while no file is there."""
    resolved = registry_path(path)
    return DeviceRegistry.from_file(resolved) if resolved.exists() else sample_registry()


class RegistryFile:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = registry_path(path)
        self._mtime: float | None = None
        self._registry = self._load()

    def _mtime_now(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except FileNotFoundError:
            return None

    def _load(self) -> DeviceRegistry:
        self._mtime = self._mtime_now()
        if self._mtime is None:
            logger.info("device registry %s does not exist (yet): using the packaged sample", self.path)
            return sample_registry()
        registry = DeviceRegistry.from_file(self.path)
        logger.info("device registry %s: %d devices", self.path, len(registry))
        return registry

    def current(self) -> DeviceRegistry:
        return self._registry

    def reload_if_changed(self) -> None:
        try:
            if self._mtime_now() != self._mtime:
                self._registry = self._load()
        except (OSError, ValueError) as exc:
            logger.error("device registry %s could not be reloaded (%s); keeping the previous one", self.path, exc)
