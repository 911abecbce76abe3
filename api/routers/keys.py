"""/api/v1/keys: an `admin` key manages the API's keys — lists them, creates one (its token shown in
that answer only; stored hashed), revokes one. Who did it is kept with the key (`created_by`,
`revoked_by`: the admin's key id) and in the access log; the same statements as `citysense api-keys`
(api/keys.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api import keys
from api.deps import Admin
from api.params import NO_NUL
from api.problems import Problem, documented

router = APIRouter(prefix="/api/v1/keys", tags=["keys"], responses=documented(400, 401, 403))

RoleName = Literal["viewer", "operator", "admin"]
KeyPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[a-f0-9]+$")]


class KeyInfo(BaseModel):
    key_id: str
    consumer: str
    role: RoleName
    created_at: datetime
    created_by: str | None = Field(None, description="the admin key that made it; null: `citysense api-keys`")
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class NewKey(BaseModel):
    consumer: str = Field(min_length=1, max_length=100, pattern=NO_NUL, description="who will use it")
    role: RoleName


class CreatedKey(BaseModel):
    key_id: str
    consumer: str
    role: RoleName
    created_at: datetime
    token: str = Field(description="the bearer token: shown here once, never again")


@router.get("", response_model=list[KeyInfo], summary="every key, active and revoked (never a token)")
async def listing(request: Request, _: Admin) -> list[dict]:
    async with request.app.state.actions_pool.connection() as conn:
        return await (await conn.execute(keys.LIST)).fetchall()


@router.post("", response_model=CreatedKey, status_code=201, summary="create a key (its token in this answer only)")
async def create(request: Request, caller: Admin, body: NewKey) -> dict:
    key_id, token = keys.new_token()
    async with request.app.state.actions_pool.connection() as conn:
        row = await (await conn.execute(keys.CREATE, (key_id, keys.digest(token), body.consumer, body.role,
                                                      caller.key_id))).fetchone()
    return {**row, "token": token}


@router.delete("/{key_id}", status_code=204, summary="revoke a key", responses=documented(404))
async def revoke(request: Request, caller: Admin, key_id: KeyPath) -> Response:
    async with request.app.state.actions_pool.connection() as conn:
        done = (await conn.execute(keys.REVOKE, (caller.key_id, key_id))).rowcount == 1
    if not done:
        raise Problem(404, f"no active key {key_id!r} (GET /api/v1/keys lists them)")
    return Response(status_code=204)
