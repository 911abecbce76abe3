"""Secrets from files, as containers mount them: for every `CITYSENSE_…_FILE` variable, the variable
without `_FILE` is set to the file's content (its last newline dropped) unless it is already set —
the convention of the official database images (`POSTGRES_PASSWORD_FILE`), so compose's and
Kubernetes' secret files reach every settings class without a password in the environment."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from runtime.exceptions import CitysenseError


class SecretFileError(CitysenseError):
    pass


def load(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Set each variable named by a `CITYSENSE_…_FILE`; returns the names set."""
    done = []
    for name, path in sorted(environ.items()):
        if not (name.startswith("CITYSENSE_") and name.endswith("_FILE")) or not path:
            continue
        target = name[: -len("_FILE")]
        if target in environ:
            continue
        try:
            environ[target] = Path(path).read_text(encoding="utf-8").removesuffix("\n")
        except OSError as exc:
            raise SecretFileError(f"{name}={path}: cannot read it ({exc.strerror}); mount the secret there or "
                                  f"unset {name}") from exc
        done.append(target)
    return done
