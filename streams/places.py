"""Where an area sits in the hierarchy, as every output message of the streams names it.

`Places(areas).of(code)` gives `{"area", "level", "parent"}` for a code of the configured area set
(telemetry/areas.py), and `parent(code)` the area that rolls it up (None at the top, or for a
code the set does not know: such readings are still windowed, under their own code, but rolled
up nowhere).
"""

from __future__ import annotations

from telemetry.areas import AreaRegistry


class Places:
    def __init__(self, areas: AreaRegistry) -> None:
        self.areas = areas
        self._cache: dict[int, dict] = {}

    def of(self, code: int) -> dict:
        place = self._cache.get(code)
        if place is None:
            area = self.areas.get(code)
            place = self._cache[code] = {"area": code, "level": area.level.value if area else None,
                                         "parent": area.parent if area else None}
        return place

    def parent(self, code: int) -> int | None:
        return self.of(code)["parent"]
