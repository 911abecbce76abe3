"""Passwords the stack generates for its own accounts (rehearsal Kafka users, broker accounts): random,
created once, kept in a file of mode 0600 under the stack's git-ignored data folder."""

from __future__ import annotations

import secrets
from pathlib import Path


def stored_password(path: Path, nbytes: int = 24) -> str:
    """The password in `path`, created (random, URL-safe) when the file does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text()
