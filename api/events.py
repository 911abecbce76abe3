"""/api/v1/events: live events over Server-Sent Events, fed from the Kafka output topics (not by
polling the database): new and changed alerts, hourly and daily AQI, and 1-minute aggregates, each
filtered by area (and everything below it) and kind.

Each client gets its own Kafka consumer (no group: partitions assigned and positioned by hand), so
a resumed client reads exactly from where it left off: every event's id is the position, per topic
and partition, just after that event (`v1.` + base64url JSON); `Last-Event-ID` (the header browsers
send on reconnect, or `?last_event_id=`) positions the consumer there — no gap, no repeat. Without
it the stream starts at the topics' ends. Between the consumer and the client sits a bounded queue:
a client too slow to drain it is sent a final `dropped` event and disconnected, and never slows the
others. A comment line every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from typing import Annotated

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api import sql
from api.deps import Viewer
from api.params import AreaQuery
from api.problems import Problem, documented
from telemetry.topics import KafkaTopics

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["live events"], responses=documented(400, 401, 403, 404, 503))

KINDS = ("alert", "aqi", "aggregate")
KEEPALIVE_S = 15.0


def topics_of(prefix: str) -> dict[str, str]:
    t = KafkaTopics(prefix)
    return {"alert": t.alerts, "aqi": t.aqi, "aggregate": t.aggregates}


def encode_id(positions: dict[str, dict[int, int]]) -> str:
    return "v1." + base64.urlsafe_b64encode(orjson.dumps(positions, option=orjson.OPT_NON_STR_KEYS)).decode().rstrip("=")


def decode_id(text: str) -> dict[str, dict[int, int]]:
    """The positions in an event id; ValueError when it is not one of ours."""
    if not text.startswith("v1."):
        raise ValueError("not a citysense event id")
    raw = text[3:] + "=" * (-len(text[3:]) % 4)
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw))
        return {kind: {int(p): int(o) for p, o in parts.items()} for kind, parts in data.items() if kind in KINDS}
    except (binascii.Error, orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
        raise ValueError("a malformed event id") from exc


def frame(kind: str, event_id: str, data: bytes) -> bytes:
    return b"id: " + event_id.encode() + b"\nevent: " + kind.encode() + b"\ndata: " + data + b"\n\n"


class Feed:
    """One client's consumer, filter and bounded queue."""

    def __init__(self, kafka: dict, topics: dict[str, str], kinds: set[str], within: set[int] | None,
                 queue_size: int) -> None:
        self.kafka, self.topics, self.kinds, self.within = kafka, topics, kinds, within
        self.kind_of = {topic: kind for kind, topic in topics.items() if kind in kinds}
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(queue_size)
        self.positions: dict[str, dict[int, int]] = {}
        self.consumer: AIOKafkaConsumer | None = None

    async def start(self, resume: dict[str, dict[int, int]] | None) -> None:
        admin = AIOKafkaAdminClient(**self.kafka)
        await admin.start()
        try:
            described = await admin.describe_topics(list(self.kind_of))
        finally:
            await admin.close()
        tps = [TopicPartition(t["topic"], p["partition"]) for t in described if t["error_code"] == 0
               for p in t["partitions"]]
        if not tps:
            raise Problem(503, "the output topics do not exist yet: is the streams worker running "
                               "(citysense streams, its log)?")
        self.consumer = AIOKafkaConsumer(**self.kafka, enable_auto_commit=False, group_id=None)
        await self.consumer.start()
        self.consumer.assign(tps)
        ends = await self.consumer.end_offsets(tps)
        for tp in tps:
            kind = self.kind_of[tp.topic]
            offset = (resume or {}).get(kind, {}).get(tp.partition, ends[tp])
            self.consumer.seek(tp, offset)
            self.positions.setdefault(kind, {})[tp.partition] = offset

    def wanted(self, kind: str, message: dict) -> bool:
        if kind == "aggregate" and message.get("window_s") != 60:
            return False
        area = message.get("area", message.get("district"))
        return self.within is None or area in self.within

    async def pump(self) -> None:
        """Kafka -> the queue, until the client goes or falls too far behind (or Kafka fails it: then
        the stream ends and the client reconnects with its last id)."""
        try:
            while True:
                batch = await self.consumer.getmany(timeout_ms=1000, max_records=500)
                for tp, records in batch.items():
                    kind = self.kind_of[tp.topic]
                    for record in records:
                        self.positions[kind][tp.partition] = record.offset + 1
                        try:
                            message = orjson.loads(record.value)
                        except orjson.JSONDecodeError:
                            continue
                        if not self.wanted(kind, message):
                            continue
                        try:
                            self.queue.put_nowait(frame(kind, encode_id(self.positions), record.value))
                        except asyncio.QueueFull:
                            await self._drop()
                            return
        except Exception:
            logger.exception("live events: reading Kafka failed; ending this client's stream")
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)
        finally:
            await self.consumer.stop()

    def lag(self) -> dict[str, int]:
        """Per kind: records in Kafka past this client's positions (from the last fetches' highwater)."""
        lag: dict[str, int] = {}
        for tp in self.consumer.assignment():
            kind = self.kind_of[tp.topic]
            position = self.positions[kind][tp.partition]
            lag[kind] = lag.get(kind, 0) + max(0, (self.consumer.highwater(tp) or position) - position)
        return lag

    async def _drop(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        body = orjson.dumps({"reason": "this client read too slowly; reconnect with the last event id it got"})
        self.queue.put_nowait(b"event: dropped\ndata: " + body + b"\n\n")
        self.queue.put_nowait(None)


@router.get("/events", summary="live events (Server-Sent Events)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an event stream"}})
async def events(request: Request, _: Viewer, area: AreaQuery = None,
                 kind: Annotated[list[str] | None, Query(description="alert, aqi, aggregate (repeatable)")] = None,
                 last_event_id: Annotated[str | None, Header(alias="last-event-id")] = None,
                 resume: Annotated[str | None, Query(alias="last_event_id")] = None) -> StreamingResponse:
    kinds = set(kind or KINDS)
    if not kinds <= set(KINDS):
        raise Problem(400, f"kind is one of {', '.join(KINDS)}",
                      errors=[{"name": "kind", "in": "query", "detail": f"unknown: {sorted(kinds - set(KINDS))}"}])
    positions = None
    if last_event_id or resume:
        try:
            positions = decode_id(last_event_id or resume)
        except ValueError as exc:
            raise Problem(400, f"Last-Event-ID: {exc}", errors=[{"name": "Last-Event-ID", "in": "header",
                                                                 "detail": str(exc)}]) from exc
    within = None
    if area is not None:
        async with request.app.state.read_pool.connection() as conn:
            if not await sql.area_exists(conn, area):
                raise Problem(404, f"no area {area} (GET /api/v1/areas lists them)")
            within = set(await sql.subtree(conn, area))
    state = request.app.state
    feed = Feed(state.kafka, topics_of(state.settings.topic_prefix), kinds, within, state.settings.sse_queue_size)
    await feed.start(positions)

    async def stream():
        state.metrics.sse_clients.inc()
        state.metrics.feeds.add(feed)
        pump = asyncio.create_task(feed.pump())
        try:
            yield b": connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(feed.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    if pump.done():
                        return
                    yield b": keepalive\n\n"
                    continue
                if item is None:
                    return
                yield item
        finally:
            state.metrics.sse_clients.dec()
            state.metrics.feeds.discard(feed)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
