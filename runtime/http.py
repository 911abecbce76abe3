"""A tiny HTTP endpoint for a service: Prometheus metrics on /metrics and a health check on /healthz.

Runs inside the service's asyncio loop (no thread, no framework). /healthz answers 200 with
{"ok": true, ...} when the service's health callback says so, else 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

logger = logging.getLogger(__name__)

HealthCheck = Callable[[], dict]


class OpsServer:
    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: HealthCheck) -> None:
        self.host, self.port = host, port
        self._registry = registry
        self._health = health
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> OpsServer:
        if self.port:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            logger.info("metrics on http://%s:%d/metrics, health on /healthz", self.host, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            path = request.split(b" ")[1].decode() if request.count(b" ") >= 2 else "/"
            if path.startswith("/metrics"):
                status, ctype, body = 200, CONTENT_TYPE_LATEST, generate_latest(self._registry)
            elif path.startswith("/healthz"):
                report = self._health()
                status = 200 if report.get("ok") else 503
                ctype, body = "application/json", json.dumps(report).encode()
            else:
                status, ctype, body = 404, "text/plain", b"not found: try /metrics or /healthz\n"
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode() + body
            )
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()
