"""The gateway's MQTT reconnection never gives up: an unexpected error while connecting is logged
and retried like an unreachable broker (a reconnect task that died would stall the gateway
silently, connected to nothing)."""

from __future__ import annotations

import asyncio
import logging

from gateway.gate import Gate
from gateway.metrics import GatewayMetrics
from gateway.mqtt_source import MqttSource
from gateway.settings import GatewaySettings


async def test_retries_after_unreachable_and_unexpected_errors(caplog, monkeypatch):
    monkeypatch.setattr(asyncio, "sleep", _no_wait)
    source = MqttSource(GatewaySettings(mqtt_port=1), Gate(10, 1000), lambda item: None, GatewayMetrics())
    outcomes = [ConnectionRefusedError(111, "Connection refused"), ValueError("Invalid host."), None]
    calls = []

    def reconnect():
        calls.append(1)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    source.client.reconnect = reconnect
    with caplog.at_level(logging.ERROR, logger="gateway.mqtt_source"):
        await source._connect_loop()
    assert len(calls) == 3 and not outcomes
    messages = [r.getMessage() for r in caplog.records]
    assert "unreachable (" in messages[0] and "failed unexpectedly" in messages[1]
    assert caplog.records[1].exc_info[0] is ValueError  # the traceback is in the log


async def _no_wait(seconds: float) -> None:
    return None
