"""The API's FastAPI application, built by `build_app(settings)` (no module-level state): two
connection pools (reads with the read-only role; operators' actions and the access log with a role
that may write only those), the access log, the outbox of operators' actions to Kafka, one router
per resource, problem details for every error, /healthz and Prometheus /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api import events, problems, web
from api.access import AccessLog, AccessMiddleware, ApiMetrics
from api.outbox import Outbox
from api.ratelimit import RateLimiter
from api.routers import (alerts, aqi, areas, bulk, devices, exports, keys, ngsi, odata, open_data, quality, reference,
                         series)
from api.settings import ApiSettings

logger = logging.getLogger(__name__)


def action_topic(prefix: str) -> str:
    return f"{prefix}.alert-actions.v1"


def build_app(settings: ApiSettings) -> FastAPI:
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # rows as dicts on every connection of both pools (a connection keeps what it was given)
        read, actions = (AsyncConnectionPool(dsn, min_size=settings.pool_min, max_size=settings.pool_max, open=False,
                                             name=name, kwargs={"row_factory": dict_row})
                         for name, dsn in (("read", settings.read_dsn), ("actions", settings.actions_dsn)))
        await read.open(wait=False)
        await actions.open(wait=False)
        app.state.read_pool, app.state.actions_pool = read, actions
        app.state.access_log = AccessLog(actions, metrics)
        kafka = {"bootstrap_servers": settings.kafka_bootstrap_servers, **settings.kafka_client_options()}
        app.state.kafka = kafka
        app.state.outbox = Outbox(actions, kafka, action_topic(settings.topic_prefix), settings.publish_interval_s,
                                  metrics, settings.kafka_topic_defaults())
        tasks = [asyncio.create_task(app.state.access_log.run(), name="access-log"),
                 asyncio.create_task(app.state.outbox.run(), name="outbox")]
        logger.info("citysense api on http://%s:%d/api/v1 (OpenAPI /api/v1/openapi.json)", settings.host,
                    settings.port)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await read.close()
            await actions.close()

    app = FastAPI(title="citysense API", version="1", lifespan=lifespan, openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None,
                  description="The operations centre's API: areas and their current state, series, AQI, alerts "
                              "and operators' actions, devices, data quality. Bearer API keys "
                              "(`citysense api-keys create`).")
    app.state.settings, app.state.metrics = settings, metrics
    app.state.open_limiter = RateLimiter(settings.open_rate_per_min, settings.open_burst)
    app.state.outlines = {}  # level -> (digest of the areas, the outlines' GeoJSON): api/routers/areas.py
    problems.install(app)
    app.add_middleware(AccessMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # not the live events (text/event-stream)
    for module in (areas, aqi, series, alerts, devices, quality, bulk, exports, events, keys, reference, open_data,
                   ngsi, odata):
        app.include_router(module.router)
    web.install(app, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        ok = True
        try:
            async with request.app.state.read_pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:  # the database: the one dependency a read needs
            ok, why = False, f"database unreachable ({exc.__class__.__name__}): see the API's log"
        body = {"ok": ok, "service": "api"} if ok else {"ok": False, "service": "api", "why": why}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        for name in ("read_pool", "actions_pool"):
            stats = getattr(request.app.state, name).get_stats()
            metrics.pool_size.labels(name).set(stats.get("pool_size", 0))
            metrics.pool_in_use.labels(name).set(stats.get("pool_size", 0) - stats.get("pool_available", 0))
        metrics.observe_feeds(events.KINDS)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
