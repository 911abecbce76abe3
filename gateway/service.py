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
from datetime import datetime, timedelta, timezone

import orjson

from aiokafka.errors import KafkaError

from gateway.clocks import ClockWatch
from gateway.deadletter import deadletter_key, deadletter_record
from gateway.gate import Gate
from gateway.kafka_output import KafkaOutput, discard
from gateway.metrics import GatewayMetrics
from gateway.mqtt_source import Inbound, MqttSource
from telemetry.registry_file import RegistryFile
from gateway.security import SecurityMonitor
from gateway.settings import GatewaySettings
from runtime.http import OpsServer
from runtime.kafka_topics import ensure_topics
from runtime.supervise import Supervisor
from telemetry.areas import AreaRegistry
from telemetry.topics import KafkaTopics, district_key
from telemetry.validation import Accepted, ValidationPolicy, validate

logger = logging.getLogger(__name__)

class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.topics = KafkaTopics(settings.topic_prefix)
        self.metrics = GatewayMetrics()
        self.gate = Gate(settings.max_in_flight, settings.max_in_flight_bytes)
        self.registry = RegistryFile(settings.registry)
        self.security = SecurityMonitor(settings.client_id, settings.security_max_clients)
        self.clocks = ClockWatch(settings.clock_skew_tolerance_s, settings.client_id)
        self.policy = ValidationPolicy(
            topic_root=settings.topic_root, max_payload_bytes=settings.max_payload_bytes,
            max_future_skew=timedelta(seconds=settings.max_future_skew_s),
            max_age=timedelta(seconds=settings.max_age_s), areas=AreaRegistry.named(settings.area_set),
        )
        self.inbox: asyncio.Queue[Inbound] = asyncio.Queue()
        self.pending: collections.deque[Inbound] = collections.deque()
        self._pending_added = asyncio.Event()
        self.kafka = KafkaOutput(settings, self.metrics)
        self._send_lock = asyncio.Lock()  # producer replacement and new sends do not interleave
        self.source: MqttSource | None = None
        self.ops_port: int | None = None
        self.supervisor: Supervisor | None = None

    async def _start_kafka(self, stop: asyncio.Event) -> bool:
        if not await self.kafka.start(stop):
            return False
        while not stop.is_set():
            try:
                parts = self.topics.partitions()
                await ensure_topics(self.settings.kafka_bootstrap_servers, {
                    t: parts[t] for t in (self.topics.readings, self.topics.deadletter, self.topics.security_events,
                                          self.topics.device_health)
                }, **self.settings.kafka_topic_defaults(), **self.settings.kafka_client_options())
                self.kafka.state(True)
                return True
            except (KafkaError, OSError) as exc:
                self.kafka.state(False, exc)
                await asyncio.sleep(1)
        return False

    # -- pipeline ----------------------------------------------------------------------------
    def deliver(self, item: Inbound) -> None:
        """Called by the MQTT source (in the loop) once the gate let the message in."""
        self.inbox.put_nowait(item)

    def _records(self, item: Inbound) -> list[tuple[str, bytes, bytes]]:
        result = validate(item.topic, item.payload, self.registry.current(), received_at=item.received_at,
                          policy=self.policy)
        if isinstance(result, Accepted):
            self.metrics.tally["accepted"] += 1
            if result.readings and result.readings[0].topic_area is not None:
                self.metrics.tally[f"legacy:{result.readings[0].topic_area}"] += 1
            for r in result.readings:
                self.clocks.observe(r.device_id, r.district, r.ts, item.received_at)
            return [(self.topics.readings, district_key(r.district), r.to_json()) for r in result.readings]
        self.metrics.tally["rejected:" + result.reason.value] += 1
        self.security.record(result.reason, item.topic)
        return [(self.topics.deadletter, deadletter_key(item.topic),
                 deadletter_record(result, item.topic, item.payload, item.received_at, self.settings.client_id,
                                   item.dup))]

    async def _process(self) -> None:
        while True:
            item = await self.inbox.get()
            item.records = self._records(item)
            item.produced_at = time.monotonic()
            async with self._send_lock:
                item.futures = await self.kafka.send(item.records)
                self.pending.append(item)
            self._pending_added.set()

    async def _complete(self) -> None:
        """Acknowledge messages in arrival order once Kafka acknowledged all their records. All the
        messages done by one Kafka response are acknowledged in one go (one socket write)."""
        while True:
            if not self.pending:
                self._pending_added.clear()
                await self._pending_added.wait()
                continue
            head = self.pending[0]
            if not all(f.done() for f in head.futures):
                await asyncio.wait(head.futures)
            now = time.monotonic()
            self.metrics.produce_latency.observe(now - head.produced_at)  # one sample per Kafka response
            while self.pending:
                item = self.pending[0]
                if not all(f.done() for f in item.futures):
                    break
                error = next((f.exception() or "cancelled" for f in item.futures
                              if f.cancelled() or f.exception()), None)
                if error is not None:
                    await self._resend_all(error)
                    break
                self.pending.popleft()
                self._acknowledge(item, now)
            self.kafka.state(True)

    def _acknowledge(self, item: Inbound, now: float) -> None:
        tally = self.metrics.tally
        topic = item.records[0][0] if item.records else None
        tally["produced:" + topic] += len(item.records)
        if topic == self.topics.readings:
            tally["readings"] += len(item.records)
        if self.source.ack(item):
            tally["acked"] += 1
        self.gate.leave(item.size)

    async def _resend_all(self, cause: object) -> None:
        """A delivery failed: replace the producer and send every unacknowledged message's records again."""
        async with self._send_lock:
            for item in self.pending:
                discard(item.futures)
            await self.kafka.replace(cause)
            for item in self.pending:
                item.futures = await self.kafka.send(item.records)
            logger.info("re-sent the records of %d unacknowledged messages", len(self.pending))

    async def _housekeeping(self) -> None:
        """Publish security summaries, reload the device registry when its file changes, update gauges."""
        last_security = last_clocks = time.monotonic()
        while True:
            await asyncio.sleep(0.2)
            self.metrics.flush()
            self.metrics.in_flight.set(self.gate.count)
            self.metrics.in_flight_bytes.set(self.gate.bytes)
            self.metrics.queue_depth.set(self.inbox.qsize())
            self.registry.reload_if_changed()
            if time.monotonic() - last_security >= self.settings.security_interval_s and self.kafka.ok:
                last_security = time.monotonic()
                for key, value in self.security.drain():
                    async with self._send_lock:
                        futures = await self.kafka.send([(self.topics.security_events, key, value)])
                    # Best effort: a summary lost in an outage is not re-sent (the dead letters hold the detail).
                    await asyncio.gather(*futures, return_exceptions=True)
                    self.metrics.security_events.inc()
            if time.monotonic() - last_clocks >= self.settings.clock_interval_s and self.kafka.ok:
                last_clocks = time.monotonic()
                await self._report_clocks()

    async def _report_clocks(self) -> None:
        """Device clock states that changed, to the device-health topic; a state counts as reported
        only once Kafka acknowledged it (else it is judged and sent again next interval)."""
        for device_id, state, event in self.clocks.changes(datetime.now(timezone.utc)):
            district = orjson.loads(event)["district"]
            async with self._send_lock:
                futures = await self.kafka.send([(self.topics.device_health, district_key(district), event)])
            if not any(isinstance(r, BaseException) for r in await asyncio.gather(*futures, return_exceptions=True)):
                self.clocks.reported(device_id, state)
                self.metrics.clock_events.labels(state).inc()
                log = logger.info if state == "ok" else logger.warning
                log("device %s: clock %s (%s)", device_id, state, event.decode())
        self.metrics.clock_skewed.set(len(self.clocks.skewed))

    def health(self) -> dict:
        tasks_ok = self.supervisor is not None and self.supervisor.healthy
        ok = bool(self.source and self.source.connected and self.source.subscribed) and self.kafka.ok and tasks_ok
        return {"ok": ok, "service": "gateway", "client_id": self.settings.client_id,
                "tasks": "running" if tasks_ok else (self.supervisor.failure if self.supervisor else "not started"),
                "mqtt_connected": bool(self.source and self.source.connected),
                "mqtt_subscribed": bool(self.source and self.source.subscribed), "kafka_reachable": self.kafka.ok,
                "in_flight": self.gate.count, "in_flight_bytes": self.gate.bytes, "in_flight_peak": self.gate.peak_count,
                "taken_beyond_bound": self.gate.over_bound}

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        s = self.settings
        async with OpsServer(s.metrics_host, s.metrics_port, self.metrics.registry, self.health) as ops:
            self.ops_port = ops.port
            if not await self._start_kafka(stop):
                return
            self.supervisor = supervisor = Supervisor("gateway")
            self.source = MqttSource(s, self.gate, self.deliver, self.metrics, supervisor.spawn)
            self.source.start()
            for name, coro in (("process", self._process()), ("complete", self._complete()),
                               ("housekeeping", self._housekeeping())):
                supervisor.spawn(coro, name)
            try:
                await supervisor.wait(stop)
            finally:
                await self._shutdown(supervisor)
            supervisor.raise_if_failed()

    async def _shutdown(self, supervisor: Supervisor) -> None:
        """Stop taking messages, finish what is in flight (bounded), disconnect, flush, stop."""
        logger.info("gateway stopping: %d messages in flight", self.gate.count)
        self.gate.close()
        deadline = time.monotonic() + self.settings.shutdown_timeout_s
        while (self.pending or not self.inbox.empty()) and time.monotonic() < deadline and self.kafka.ok \
                and supervisor.healthy:
            await asyncio.sleep(0.05)
        left = len(self.pending) + self.inbox.qsize()
        if left:
            logger.warning("%d messages were not acknowledged; the broker will deliver them again", left)
        self.source.stop()
        await supervisor.cancel_all()
        await self.kafka.stop()
        logger.info("gateway stopped")
