"""Keep secrets out of output: redact the password of a connection string."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_KV_PASSWORD = re.compile(r"(password\s*=\s*)(\S+)", re.IGNORECASE)


def redact_dsn(dsn: str) -> str:
    """`postgresql://u:secret@h/db` -> `postgresql://u:***@h/db`; also `password=...` key/value DSNs."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is not None:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
        return dsn
    return _KV_PASSWORD.sub(r"\1***", dsn)
