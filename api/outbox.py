"""Operators' actions to Kafka (`<prefix>.alert-actions.v1`, keyed by the alert's area): an outbox.
The API commits an action to `alert_actions` first, then this task sends every row not yet
published, waits for Kafka's acknowledgement and stamps `published_at`; Kafka down means later, not
lost (a crash between the send and the stamp sends it again: consumers key on `action_id`)."""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from psycopg_pool import AsyncConnectionPool

from api.access import ApiMetrics
from runtime.kafka_topics import ensure_topics
from runtime.retry import Backoff

logger = logging.getLogger(__name__)

SELECT = """SELECT x.action_id, x.alert_id, x.action, x.actor, x.key_id, x.assignee, x.comment, x.reason, x.at,
                   a.district, a.rule, a.subject
            FROM alert_actions x JOIN alerts a USING (alert_id)
            WHERE x.published_at IS NULL ORDER BY x.action_id LIMIT 500"""


def message(row: dict) -> tuple[bytes, bytes]:
    body = {"v": 1, **row, "at": row["at"].isoformat().replace("+00:00", "Z"), "area": row["district"]}
    del body["district"]
    return str(row["district"]).encode(), orjson.dumps(body)


class Outbox:
    def __init__(self, pool: AsyncConnectionPool, kafka: dict, topic: str, interval_s: float,
                 metrics: ApiMetrics, topic_defaults: dict | None = None) -> None:
        self.pool, self.kafka, self.topic, self.interval_s, self.metrics = pool, kafka, topic, interval_s, metrics
        self.topic_defaults = topic_defaults or {}  # replication and min.insync.replicas of the topic it creates
        self.wake = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff(0.5, 10.0)
        producer: AIOKafkaProducer | None = None
        try:
            while True:
                try:
                    if producer is None:
                        kafka = dict(self.kafka)
                        await ensure_topics(kafka.pop("bootstrap_servers"), {self.topic: 3}, **self.topic_defaults,
                                            **kafka)
                        producer = AIOKafkaProducer(**self.kafka, acks="all", enable_idempotence=True)
                        await producer.start()
                    await self._send(producer)
                    backoff.reset()
                    try:
                        await asyncio.wait_for(self.wake.wait(), self.interval_s)
                    except TimeoutError:
                        pass
                    self.wake.clear()
                except (KafkaError, OSError) as exc:
                    logger.warning("operator actions not yet on Kafka %s (%s); retrying", self.topic, exc)
                    if producer is not None:
                        await producer.stop()
                        producer = None
                    await backoff.wait()
        finally:
            if producer is not None:
                await producer.stop()

    async def _send(self, producer: AIOKafkaProducer) -> None:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(SELECT)).fetchall()
            self.metrics.actions_unpublished.set(len(rows))
            if not rows:
                return
            futures = [await producer.send(self.topic, value=v, key=k) for k, v in map(message, rows)]
            await asyncio.gather(*futures)
            await conn.execute("UPDATE alert_actions SET published_at = now() WHERE action_id = ANY(%s)",
                               ([r["action_id"] for r in rows],))
        self.metrics.actions_unpublished.set(0)
