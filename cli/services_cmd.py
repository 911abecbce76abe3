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


async def _until_signalled(run) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(stop)


def run_gateway(args: argparse.Namespace) -> int:
    from gateway.service import Gateway
    from gateway.settings import GatewaySettings

    gateway = Gateway(GatewaySettings())
    asyncio.run(_until_signalled(gateway.run))
    return 0


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
