"""Fixtures for integration tests: the real local stack's endpoints and unique names per test."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

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


@pytest.fixture(scope="session")
def names_made(stack_settings: StackSettings):
    """Every `unique` suffix this session handed out; at its end, the Kafka topics named with one are
    deleted, so a developer's stack does not grow by hundreds of partitions per run (Kafka then
    takes minutes to start and to elect leaders after a restart)."""
    made: set[str] = set()
    yield made
    if made:
        asyncio.run(_delete_topics(stack_settings.kafka_bootstrap, made))


async def _delete_topics(bootstrap: str, tokens: set[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        await admin.start()
        doomed = [t for t in await admin.list_topics() if any(token in t for token in tokens)]
        for i in range(0, len(doomed), 100):
            await admin.delete_topics(doomed[i:i + 100], timeout_ms=30_000)
    except Exception as exc:  # cleanup only: the tests' verdicts stand
        logging.getLogger(__name__).warning("could not delete the session's test topics from %s: %s", bootstrap, exc)
    finally:
        await admin.close()


@pytest.fixture
def unique(names_made: set[str]) -> str:
    """A short unique suffix for topic, group, client and schema names of one test."""
    token = uuid.uuid4().hex[:10]
    names_made.add(token)
    return token
