"""A gateway whose background task dies reports unhealthy and stops with an error (exit 1 from
`citysense gateway`), against the real Mosquitto and Kafka; it never runs on half-alive."""

from __future__ import annotations

import asyncio

import pytest

from cli.services_cmd import _until_signalled
from gateway.service import Gateway
from gateway.settings import GatewaySettings
from tests.integration.helpers import free_port, http_get

pytestmark = pytest.mark.integration


async def test_a_dead_task_makes_the_gateway_unhealthy_and_exit_1(gw, monkeypatch):
    port = free_port()
    access = gw.access
    settings = GatewaySettings(
        mqtt_host=access.service[0], mqtt_port=access.service[1], mqtt_username=access.gateway[0],
        mqtt_password=access.gateway[1], kafka_bootstrap_servers=gw.kafka, topic_root=gw.root,
        topic_prefix=gw.topics.prefix, client_id=f"gw-sup-{gw.unique}", registry=gw.registry, metrics_port=port,
        security_interval_s=0.5, session_expiry_s=60)
    gateway = Gateway(settings)
    healthy = asyncio.Event()
    broken = asyncio.Event()

    def drain():  # the security monitor fails inside the housekeeping task once the gateway is healthy
        if not healthy.is_set():
            return []
        broken.set()
        raise RuntimeError("security monitor broke")

    monkeypatch.setattr(gateway.security, "drain", drain)
    run = asyncio.create_task(_until_signalled(gateway.run))
    for _ in range(300):
        if (await asyncio.to_thread(http_get, f"http://127.0.0.1:{port}/healthz"))[0] == 200:
            break
        await asyncio.sleep(0.1)
    healthy.set()
    await asyncio.wait_for(broken.wait(), 10)
    assert not gateway.health()["ok"] and "housekeeping" in gateway.health()["tasks"]
    assert await asyncio.wait_for(run, 30) == 1, "the gateway should stop with exit status 1"
