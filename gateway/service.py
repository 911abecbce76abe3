"""The gateway process: MQTT in, validate, Kafka out, acknowledge to MQTT only after Kafka did.

At least once: a message is acknowledged to the broker after Kafka acknowledged (acks=all,
idempotent producer) every record made from it — its readings, or its dead-letter record.
Acknowledgements go out in the order the messages came in. Kafka down: produce is retried with
backoff, nothing is acknowledged, the gate fills and paho stops reading, the broker keeps the rest.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.deadletter import deadletter_key, deadletter_record
from gateway.gate import Gate
from gateway.metrics import GatewayMetrics
from gateway.mqtt_source import Inbound, MqttSource
from gateway.registry_file import RegistryFile
from gateway.security import SecurityMonitor
from gateway.settings import GatewaySettings
from runtime.http import OpsServer
from runtime.kafka_topics import ensure_topics
from telemetry.topics import KafkaTopics, district_key
from telemetry.validation import Accepted, ValidationPolicy, validate

logger = logging.getLogger(__name__)

READINGS_PARTITIONS = 12


class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.topics = KafkaTopics(settings.topic_prefix)
        self.metrics = GatewayMetrics()
        self.gate = Gate(settings.max_in_flight, settings.max_in_flight_bytes)
        self.registry = RegistryFile(settings.registry)
        self.security = SecurityMonitor(settings.client_id, settings.security_max_clients)
        self.policy = ValidationPolicy(
            topic_root=settings.topic_root, max_payload_bytes=settings.max_payload_bytes,
            max_future_skew=timedelta(seconds=settings.max_future_skew_s),
            max_age=timedelta(seconds=settings.max_age_s),
        )
        self.inbox: asyncio.Queue[Inbound] = asyncio.Queue()
        self.pending: collections.deque[Inbound] = collections.deque()
        self._pending_added = asyncio.Event()
        self.producer: AIOKafkaProducer | None = None
        self.source: MqttSource | None = None
        self.kafka_ok = False
        self._kafka_known = False  # whether kafka_ok was ever set (log state changes, not the first state)
        self.ops_port: int | None = None

    # -- Kafka -------------------------------------------------------------------------------
    def _new_producer(self) -> AIOKafkaProducer:
        s = self.settings
        return AIOKafkaProducer(
            bootstrap_servers=s.kafka_bootstrap_servers, acks="all", enable_idempotence=True,
            linger_ms=s.linger_ms, max_batch_size=s.max_batch_bytes, request_timeout_ms=s.request_timeout_ms,
            client_id=s.client_id,
        )

    def _kafka_state(self, ok: bool, cause: object = None) -> None:
        if ok != self.kafka_ok or not self._kafka_known:
            if ok and not self._kafka_known:
                logger.info("Kafka at %s is reachable; producing", self.settings.kafka_bootstrap_servers)
            elif ok:
                logger.info("Kafka at %s is reachable again; producing", self.settings.kafka_bootstrap_servers)
            else:
                logger.error("Kafka at %s is unreachable (%s); holding MQTT messages unacknowledged and retrying",
                             self.settings.kafka_bootstrap_servers, cause)
                self.metrics.reconnects.labels("kafka").inc()
        self._kafka_known = True
        self.kafka_ok = ok
        self.metrics.kafka_up.set(1 if ok else 0)

    async def _start_kafka(self, stop: asyncio.Event) -> bool:
        backoff = 0.5
        while not stop.is_set():
            producer = self._new_producer()
            try:
                await producer.start()
                await ensure_topics(self.settings.kafka_bootstrap_servers, {
                    self.topics.readings: READINGS_PARTITIONS, self.topics.deadletter: 3,
                    self.topics.security_events: 1,
                })
                self.producer = producer
                self._kafka_state(True)
                return True
            except (KafkaError, OSError) as exc:
                await producer.stop()
                self._kafka_state(False, exc)
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                except asyncio.TimeoutError:
                    pass
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
        return False

    async def _send(self, records: list[tuple[str, bytes, bytes]]) -> list[asyncio.Future]:
        """Hand records to the producer; retried with backoff while Kafka cannot take them."""
        backoff = 0.2
        while True:
            try:
                return [await self.producer.send(topic, value, key=key) for topic, key, value in records]
            except KafkaError as exc:
                self._kafka_state(False, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)

    # -- pipeline ----------------------------------------------------------------------------
    def deliver(self, item: Inbound) -> None:
        """Called from paho's thread (after the gate let the message in)."""
        self._loop.call_soon_threadsafe(self.inbox.put_nowait, item)

    def _records(self, item: Inbound) -> list[tuple[str, bytes, bytes]]:
        result = validate(item.topic, item.payload, self.registry.current(), received_at=item.received_at,
                          policy=self.policy)
        if isinstance(result, Accepted):
            self.metrics.accepted.inc()
            return [(self.topics.readings, district_key(r.district), r.to_json()) for r in result.readings]
        self.metrics.rejected.labels(result.reason.value).inc()
        self.security.record(result.reason, item.topic)
        return [(self.topics.deadletter, deadletter_key(item.topic),
                 deadletter_record(result, item.topic, item.payload, item.received_at, self.settings.client_id))]

    async def _process(self) -> None:
        while True:
            item = await self.inbox.get()
            item.records = self._records(item)
            item.produced_at = time.monotonic()
            item.futures = await self._send(item.records)
            self.pending.append(item)
            self._pending_added.set()

    async def _complete(self) -> None:
        """Acknowledge messages in arrival order once Kafka acknowledged all their records."""
        backoff = 0.2
        while True:
            if not self.pending:
                self._pending_added.clear()
                await self._pending_added.wait()
                continue
            item = self.pending[0]
            try:
                await asyncio.gather(*item.futures)
            except KafkaError as exc:
                self._kafka_state(False, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
                item.futures = await self._send(item.records)
                continue
            backoff = 0.2
            self._kafka_state(True)
            self.pending.popleft()
            self.metrics.produce_latency.observe(time.monotonic() - item.produced_at)
            for topic, _, _ in item.records:
                self.metrics.produced.labels(topic).inc()
            if item.records and item.records[0][0] == self.topics.readings:
                self.metrics.readings.inc(len(item.records))
            if self.source.ack(item):
                self.metrics.acked.inc()
            self.gate.release(item.size)

    async def _housekeeping(self) -> None:
        """Publish security summaries, reload the device registry when its file changes, update gauges."""
        last_security = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            self.metrics.in_flight.set(self.gate.count)
            self.metrics.in_flight_bytes.set(self.gate.bytes)
            self.metrics.queue_depth.set(self.inbox.qsize())
            self.registry.reload_if_changed()
            if time.monotonic() - last_security >= self.settings.security_interval_s and self.kafka_ok:
                last_security = time.monotonic()
                for key, value in self.security.drain():
                    await self._send([(self.topics.security_events, key, value)])
                    self.metrics.security_events.inc()

    def health(self) -> dict:
        ok = bool(self.source and self.source.connected and self.source.subscribed) and self.kafka_ok
        return {"ok": ok, "service": "gateway", "client_id": self.settings.client_id,
                "mqtt_connected": bool(self.source and self.source.connected),
                "mqtt_subscribed": bool(self.source and self.source.subscribed), "kafka_reachable": self.kafka_ok,
                "in_flight": self.gate.count, "in_flight_bytes": self.gate.bytes}

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        s = self.settings
        async with OpsServer(s.metrics_host, s.metrics_port, self.metrics.registry, self.health) as ops:
            self.ops_port = ops.port
            if not await self._start_kafka(stop):
                return
            self.source = MqttSource(s, self.gate, self.deliver, self.metrics)
            self.source.start()
            tasks = [asyncio.create_task(c) for c in (self._process(), self._complete(), self._housekeeping())]
            try:
                await stop.wait()
            finally:
                await self._shutdown(tasks)

    async def _shutdown(self, tasks: list[asyncio.Task]) -> None:
        """Stop taking messages, finish what is in flight (bounded), disconnect, flush, stop."""
        logger.info("gateway stopping: %d messages in flight", self.gate.count)
        self.gate.close()
        deadline = time.monotonic() + self.settings.shutdown_timeout_s
        while (self.pending or not self.inbox.empty()) and time.monotonic() < deadline and self.kafka_ok:
            await asyncio.sleep(0.05)
        left = len(self.pending) + self.inbox.qsize()
        if left:
            logger.warning("%d messages were not acknowledged; the broker will deliver them again", left)
        self.source.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.producer.stop()
        logger.info("gateway stopped")
