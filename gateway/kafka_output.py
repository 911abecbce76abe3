"""The Kafka side of the gateway: an idempotent producer (acks=all) that is replaced after a failed
delivery, and retried with backoff while Kafka is unreachable.

Why replace it: after an outage, batches that expired on the client leave the idempotent
producer's sequence numbers ahead of the broker's, and every later batch of that producer fails
with OutOfOrderSequence. A new producer gets a new producer id and starts its sequences afresh;
the records of unacknowledged messages are then sent again (duplicates are removed downstream).
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings

logger = logging.getLogger(__name__)

Record = tuple[str, bytes, bytes]  # (topic, key, value)


def discard(futures: list[asyncio.Future]) -> None:
    """Retrieve (or cancel) futures of a replaced producer, so none is left unobserved."""
    for f in futures:
        if f.done():
            if not f.cancelled():
                f.exception()
        else:
            f.cancel()


class KafkaOutput:
    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.producer: AIOKafkaProducer | None = None
        self.ok = False
        self._known = False

    def _new_producer(self) -> AIOKafkaProducer:
        s = self.settings
        return AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers, acks="all", enable_idempotence=True,
            linger_ms=s.linger_ms, max_batch_size=s.max_batch_bytes, request_timeout_ms=s.request_timeout_ms,
            client_id=s.client_id, **s.kafka_client_options(),
        )

    def state(self, ok: bool, cause: object = None) -> None:
        """Log once per change of state, not once per failed record."""
        where = self.settings.kafka_bootstrap_servers
        if not self._known and ok:
            logger.info("Kafka at %s is reachable; producing", where)
        elif ok and not self.ok:
            logger.info("Kafka at %s is reachable again; producing", where)
        elif not ok and (self.ok or not self._known):
            logger.error("Kafka at %s is unreachable (%s); MQTT messages stay unacknowledged on the broker "
                         "and the gateway retries", where, cause or "no answer")
            self.metrics.reconnects.labels("kafka").inc()
        self._known = True
        self.ok = ok
        self.metrics.kafka_up.set(1 if ok else 0)

    async def start(self, stop: asyncio.Event | None = None) -> bool:
        """Start a producer; retried with backoff until it works (or `stop` is set)."""
        backoff = 0.5
        while stop is None or not stop.is_set():
            producer = self._new_producer()
            try:
                await producer.start()
                self.producer = producer
                return True
            except (KafkaError, OSError) as exc:
                await producer.stop()
                self.state(False, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
        return False

    async def send(self, records: list[Record]) -> list[asyncio.Future]:
        """Hand records to the producer; retried with backoff while it cannot take them."""
        backoff = 0.2
        while True:
            try:
                return [await self.producer.send(topic, value, key=key) for topic, key, value in records]
            except KafkaError as exc:
                self.state(False, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)

    async def replace(self, cause: object) -> None:
        self.state(False, cause)
        old = self.producer
        try:
            await asyncio.wait_for(old.stop(), 10)
        except (asyncio.TimeoutError, KafkaError):
            pass
        await self.start()

    async def stop(self) -> None:
        if self.producer:
            await self.producer.stop()
