"""Bounded parameter types shared by the routers: a bad value is a 400 naming it, never a 500 from
the database (an area code beyond int4, a NUL byte in a text)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from telemetry.reading import DEVICE_ID_PATTERN

NO_NUL = r"^[^\x00]*$"
AreaPath = Annotated[int, Path(ge=0, le=999_999, description="an area's code (GET /api/v1/areas)")]
AreaQuery = Annotated[int | None, Query(ge=0, le=999_999, description="an area's code: it and the areas below it")]
DevicePath = Annotated[str, Path(pattern=DEVICE_ID_PATTERN)]
DeviceQuery = Annotated[str | None, Query(pattern=DEVICE_ID_PATTERN)]
AlertPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
Word = Annotated[str | None, Query(max_length=100, pattern=r"^[A-Za-z0-9_.:-]*$")]
