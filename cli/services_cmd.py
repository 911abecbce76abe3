"""`citysense gateway | streams`: run one service process until SIGTERM or SIGINT (exit 0 after a clean stop)."""

from __future__ import annotations

import argparse
import asyncio
import signal


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("gateway", help="run one MQTT -> Kafka gateway process (settings: CITYSENSE_GATEWAY_*)")
    g.set_defaults(func=run_gateway)
    s = sub.add_parser("streams", help="run one Faust streams worker (settings: CITYSENSE_STREAMS_*)")
    s.set_defaults(func=run_streams)


async def _until_signalled(run) -> int:
    """Run a service until SIGTERM/SIGINT: 0 after a clean stop, 1 when one of its tasks died
    (runtime/supervise.py logged which and why)."""
    from runtime.supervise import TaskFailed

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run(stop)
    except TaskFailed:
        return 1
    return 0


def run_gateway(args: argparse.Namespace) -> int:
    from gateway.service import Gateway
    from gateway.settings import GatewaySettings

    settings = GatewaySettings()
    if settings.mqtt_password is None and settings.mqtt_username:
        settings = _local_stack_password(settings)
    gateway = Gateway(settings)
    return asyncio.run(_until_signalled(gateway.run))


def _local_stack_password(settings):
    """Local development: the password of the gateway's account on the local stack's broker."""
    from pydantic import SecretStr

    from stack.broker_auth import load
    from stack.settings import StackSettings

    password = load(StackSettings())["services"].get(settings.mqtt_username)
    return settings.model_copy(update={"mqtt_password": SecretStr(password)}) if password else settings


def run_streams(args: argparse.Namespace) -> int:
    import faust

    from streams.app import build_app, ensure_streams_topics
    from streams.settings import StreamsSettings

    settings = StreamsSettings()
    asyncio.run(ensure_streams_topics(settings))
    app = build_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True)
    worker.execute_from_commandline()
    return 0
