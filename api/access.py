"""Every request recorded — consumer, key, method, route template, path, status, duration, and for
sharing's traceability the interface, the kind of entity read and how many — in the
`api_access_log` table, and counted in the Prometheus metrics. Rows are queued and written in
batches by one task (the request does not wait for the database); the queue is bounded, and a full
queue makes requests wait rather than lose their record."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from psycopg_pool import AsyncConnectionPool
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request

logger = logging.getLogger(__name__)

COLUMNS = ("at", "key_id", "consumer", "method", "route", "path", "status", "duration_ms", "client", "interface",
           "entity_type", "rows")
INTERFACES = (("/open/", "open-data"), ("/ngsi-ld/", "ngsi-ld"), ("/odata", "odata"), ("/api/v1/exports/", "export"))


def interface_of(path: str) -> str:
    """Which sharing interface a path belongs to (the access log's `interface`)."""
    return next((name for prefix, name in INTERFACES if path.startswith(prefix)), "api")


def trace(request: Request, entity_type: str, rows: int | None) -> None:
    """What a call read, for the access log: the kind of entity and how many (set by the route)."""
    request.state.trace = (entity_type, rows)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter("citysense_api_requests", "requests answered", ["route", "method", "status"],
                                registry=r)
        self.latency = Histogram("citysense_api_request_seconds", "time to answer", ["route"], registry=r,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.pool_in_use = Gauge("citysense_api_pool_connections_in_use", "connections lent", ["pool"], registry=r)
        self.pool_size = Gauge("citysense_api_pool_connections", "connections open", ["pool"], registry=r)
        self.sse_clients = Gauge("citysense_api_sse_clients", "live-events clients connected", registry=r)
        self.access_log_queue = Gauge("citysense_api_access_log_queue", "access-log rows not yet written",
                                      registry=r)
        self.actions_unpublished = Gauge("citysense_api_actions_unpublished",
                                         "operator actions not yet on Kafka", registry=r)
        self.sse_lag = Gauge("citysense_api_sse_kafka_lag_messages",
                             "records on an output topic not yet read by the live-events client furthest behind",
                             ["kind"], registry=r)
        self.feeds: set = set()  # the live-events feeds connected (api/events.py), for their lag

    def observe_feeds(self, kinds: tuple[str, ...]) -> None:
        """At scrape time: each kind's lag of the client furthest behind (0 with no client)."""
        lags = [f.lag() for f in self.feeds]
        for kind in kinds:
            self.sse_lag.labels(kind).set(max((lag.get(kind, 0) for lag in lags), default=0))


class AccessLog:
    def __init__(self, pool: AsyncConnectionPool, metrics: ApiMetrics, maxsize: int = 10_000) -> None:
        self.pool, self.metrics = pool, metrics
        self.queue: asyncio.Queue[tuple] = asyncio.Queue(maxsize)

    async def record(self, row: tuple) -> None:
        await self.queue.put(row)
        self.metrics.access_log_queue.set(self.queue.qsize())

    async def run(self) -> None:
        """Write what is queued, in batches, until cancelled (then what is left)."""
        try:
            while True:
                rows = [await self.queue.get()]
                await asyncio.sleep(0.2)
                await self._write(rows)
        except asyncio.CancelledError:
            await self._write([])
            raise

    async def _write(self, rows: list[tuple]) -> None:
        while not self.queue.empty():
            rows.append(self.queue.get_nowait())
        if not rows:
            return
        while True:
            try:
                async with self.pool.connection() as conn, conn.cursor() as cur:
                    async with cur.copy(f"COPY api_access_log ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                        for row in rows:
                            await copy.write_row(row)
                break
            except Exception as exc:  # the database away: keep the rows, try again
                logger.warning("writing %d access-log rows failed (%s); retrying in 1 s", len(rows), exc)
                await asyncio.sleep(1.0)
        self.metrics.access_log_queue.set(self.queue.qsize())


def trace_when_done(request: Request) -> None:
    """A streamed answer: record the call when its body has been sent (or the client left), with the
    rows the route counted by then (`trace`), not when it starts."""
    request.state.trace_when_done = True


class AccessMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or "(no route)"
        if getattr(request.state, "trace_when_done", False) and response.status_code == 200:
            body = response.body_iterator

            async def recorded():
                try:
                    async for chunk in body:
                        yield chunk
                finally:
                    await self.record(request, response.status_code, template, started)
            response.body_iterator = recorded()
            return response
        await self.record(request, response.status_code, template, started)
        return response

    @staticmethod
    async def record(request: Request, status: int, template: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        caller = getattr(request.state, "caller", None)
        state = request.app.state
        state.metrics.requests.labels(template, request.method, str(status)).inc()
        state.metrics.latency.labels(template).observe(elapsed)
        if template not in ("/healthz", "/metrics", "/", "/dashboard/config.json") \
                and not request.url.path.startswith("/static/"):
            entity_type, rows = getattr(request.state, "trace", (None, None))
            await state.access_log.record((
                datetime.now(timezone.utc), caller.key_id if caller else None, caller.consumer if caller else None,
                request.method, template, request.url.path[:500], status, elapsed * 1000,
                request.client.host if request.client else None, interface_of(request.url.path), entity_type, rows))
