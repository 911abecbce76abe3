"""FastAPI dependencies: a connection from the read pool, the caller behind the bearer token (with
a minimum role), bounded time ranges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated

import psycopg
from fastapi import Depends, Query, Request

from api.keys import Role, digest
from api.problems import Problem


@dataclass(frozen=True)
class Caller:
    key_id: str
    consumer: str
    role: Role


async def reader(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    """A connection of the read pool (rows as dicts)."""
    async with request.app.state.read_pool.connection() as conn:
        yield conn


async def _caller(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "an API key is needed: Authorization: Bearer <key> (`citysense api-keys create`)",
                      headers={"WWW-Authenticate": "Bearer"})
    async with request.app.state.actions_pool.connection() as conn:
        row = await (await conn.execute("SELECT key_id, consumer, role, revoked_at FROM api_keys WHERE key_sha256 = %s",
                                        (digest(token.strip()),))).fetchone()
    if row is None or row["revoked_at"] is not None:
        raise Problem(401, "this API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
    caller = Caller(row["key_id"], row["consumer"], Role.named(row["role"]))
    request.state.caller = caller  # for the access log
    return caller


def require(role: Role):
    async def check(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
        if caller.role < role:
            raise Problem(403, f"this needs the {role} role; the key of {caller.consumer} is {caller.role}")
        return caller
    return check


Viewer = Annotated[Caller, Depends(require(Role.VIEWER))]
Operator = Annotated[Caller, Depends(require(Role.OPERATOR))]
Admin = Annotated[Caller, Depends(require(Role.ADMIN))]
Reader = Annotated[psycopg.AsyncConnection, Depends(reader)]


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime


def time_range(request: Request,
               start: Annotated[datetime | None, Query(alias="from", description="ISO 8601 with offset")] = None,
               end: Annotated[datetime | None, Query(alias="to", description="ISO 8601 with offset")] = None) -> Range:
    """[from, to), default the last 24 h; bounded by CITYSENSE_API_MAX_RANGE_DAYS."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise Problem(400, f"{name} needs a UTC offset (e.g. 2026-12-03T08:00:00+07:00)",
                          errors=[{"name": name, "in": "query", "detail": "no UTC offset"}])
        if value is not None and not 1900 <= value.year <= 2200:  # year 1 minus a day overflowed into a 500
            raise Problem(400, f"{name}: a time between the years 1900 and 2200",
                          errors=[{"name": name, "in": "query", "detail": "out of range"}])
    end = end or datetime.now(timezone.utc)
    start = start or end - timedelta(hours=24)
    limit = request.app.state.settings.max_range_days
    if start >= end:
        raise Problem(400, "from must be before to", errors=[{"name": "from", "in": "query", "detail": "not before to"}])
    if end - start > timedelta(days=limit):
        raise Problem(400, f"the range may span at most {limit} days",
                      errors=[{"name": "from", "in": "query", "detail": f"range over {limit} days"}])
    return Range(start, end)


TimeRange = Annotated[Range, Depends(time_range)]
