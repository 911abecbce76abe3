"""The deployment files, loaded once: the Kubernetes base rendered by kustomize, the compose file, and
the names of every variable the services' settings read (to check the files name only real ones)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import AliasChoices

from stack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="session")
def rendered() -> list[dict]:
    kustomize = StackSettings().root / "bin" / "kustomize"
    assert kustomize.exists(), f"{kustomize} is missing: run deploy/local/install.sh (it builds kustomize)"
    out = subprocess.run([str(kustomize), "build", str(DEPLOY / "k8s" / "base")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())


def settings_variables() -> set[str]:
    """Every CITYSENSE_… variable a settings class of the platform reads."""
    from api.settings import ApiSettings
    from gateway.settings import GatewaySettings
    from storage.settings import StorageSettings
    from streams.settings import StreamsSettings

    names = set()
    for cls in (ApiSettings, GatewaySettings, StorageSettings, StreamsSettings):
        prefix = cls.model_config.get("env_prefix", "")
        for field, info in cls.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                names |= {a for a in alias.choices if isinstance(a, str)}
            elif isinstance(alias, str):
                names.add(alias)
            else:
                names.add((prefix + field).upper())
    # read outside the settings classes: the CLI's database URL and log level, the image's health check
    return names | {"CITYSENSE_DATABASE_URL", "CITYSENSE_LOG_LEVEL", "CITYSENSE_HEALTH_PORT"}
