"""A device registry loaded from a file and reloaded when the file changes
(so `citysense devices add | revoke` takes effect without a restart)."""

from __future__ import annotations

import logging
from pathlib import Path

from telemetry.devices import DeviceRegistry, sample_registry

logger = logging.getLogger(__name__)


class RegistryFile:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._mtime: float | None = None
        self._registry = self._load()

    def _load(self) -> DeviceRegistry:
        if self.path is None:
            return sample_registry()
        self._mtime = self.path.stat().st_mtime
        registry = DeviceRegistry.from_file(self.path)
        logger.info("device registry %s: %d devices", self.path, len(registry))
        return registry

    def current(self) -> DeviceRegistry:
        return self._registry

    def reload_if_changed(self) -> None:
        if self.path is None:
            return
        try:
            if self.path.stat().st_mtime != self._mtime:
                self._registry = self._load()
        except (OSError, ValueError) as exc:
            logger.error("device registry %s could not be reloaded (%s); keeping the previous one", self.path, exc)
