"""API keys: bearer tokens `cs_<key id>_<secret>`, stored as the SHA-256 of the whole token, each
with a role and a consumer name. Created, listed and revoked by `citysense api-keys` (the owner's
connection); checked by the API on every request."""

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


def create(conn: psycopg.Connection, consumer: str, role: Role) -> tuple[str, str]:
    key_id, token = new_token()
    conn.execute("INSERT INTO api_keys (key_id, key_sha256, consumer, role) VALUES (%s, %s, %s, %s)",
                 (key_id, digest(token), consumer, str(role)))
    return key_id, token


def listing(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT key_id, consumer, role, created_at, revoked_at FROM api_keys "
                        "ORDER BY created_at, key_id").fetchall()


def revoke(conn: psycopg.Connection, key_id: str) -> bool:
    return conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
                        (key_id,)).rowcount == 1
