"""API keys: bearer tokens `cs_<key id>_<secret>`, stored as the SHA-256 of the whole token, each
with a role and a consumer name. Created, listed and revoked by `citysense api-keys` (the owner's
connection) or by an admin key over HTTP (api/routers/keys.py, the same statements); checked by the
API on every request."""

from __future__ import annotations

import hashlib
import secrets
from enum import IntEnum

import psycopg


class Role(IntEnum):
    """Ordered: a role may do what the ones below it may."""

    VIEWER = 1  # departments: read only
    OPERATOR = 2  # acts on alerts
    ADMIN = 3  # manages keys

    @classmethod
    def named(cls, name: str) -> Role:
        return cls[name.upper()]

    def __str__(self) -> str:
        return self.name.lower()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(key id, token): the id is public (listings, the access log), the token is shown once."""
    key_id = secrets.token_hex(4)
    return key_id, f"cs_{key_id}_{secrets.token_urlsafe(32)}"


CREATE = ("INSERT INTO api_keys (key_id, key_sha256, consumer, role, created_by) VALUES (%s, %s, %s, %s, %s) "
          "RETURNING key_id, consumer, role, created_at")
LIST = ("SELECT key_id, consumer, role, created_at, created_by, revoked_at, revoked_by FROM api_keys "
        "ORDER BY created_at, key_id")
REVOKE = "UPDATE api_keys SET revoked_at = now(), revoked_by = %s WHERE key_id = %s AND revoked_at IS NULL"


def create(conn: psycopg.Connection, consumer: str, role: Role, by: str | None = None) -> tuple[str, str]:
    key_id, token = new_token()
    conn.execute(CREATE, (key_id, digest(token), consumer, str(role), by))
    return key_id, token


def listing(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(LIST).fetchall()


def revoke(conn: psycopg.Connection, key_id: str, by: str | None = None) -> bool:
    return conn.execute(REVOKE, (by, key_id)).rowcount == 1
