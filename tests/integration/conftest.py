"""Fixtures for integration tests: the real local stack's endpoints and unique names per test."""

from __future__ import annotations

import uuid

import pytest

from stack import control
from stack.broker_auth import MqttAccess, local_access
from stack.settings import StackSettings


@pytest.fixture(scope="session")
def stack_settings() -> StackSettings:
    settings = StackSettings()
    down = [s for s in control.status(settings) if not s.answers]
    if down:
        names = ", ".join(f"{s.service} at {s.endpoint} (log {s.log_file})" for s in down)
        pytest.fail(f"the local stack is not answering: {names}. Start it with `citysense stack up`.")
    return settings


@pytest.fixture(scope="session")
def mqtt_endpoint(stack_settings: StackSettings) -> tuple[str, int]:
    return stack_settings.mqtt_endpoint


@pytest.fixture(scope="session")
def mqtt_access(stack_settings: StackSettings) -> MqttAccess:
    """Endpoints and accounts of the local broker (devices are provisioned by the tests that need them)."""
    return local_access(stack_settings)


@pytest.fixture(scope="session")
def kafka_bootstrap(stack_settings: StackSettings) -> str:
    return stack_settings.kafka_bootstrap


@pytest.fixture(scope="session")
def database_url(stack_settings: StackSettings) -> str:
    return stack_settings.database_url


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic, group, client and schema names of one test."""
    return uuid.uuid4().hex[:10]
