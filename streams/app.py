"""The Faust app of the streams worker: one agent over the readings topic, batched; the district
states and each partition's applied mark in a compacted topic the project owns (streams/state_store.py).
Built by `build_app()` (no module-level state).

Order of effects per batch, each awaited before the next: admit the records that follow each
partition's applied offset (streams/continuity.py; seek back on a hole) -> compute -> publish the
outputs and wait for Kafka's acks -> write the new district states and wait for their acks -> write
each partition's applied mark and wait -> return, and Faust acknowledges the events. A crash at any
point replays from the last mark: districts whose state was written skip what they applied; the
outputs of the others are published again, identical (storage keeps one).
"""

from __future__ import annotations

import asyncio
import logging
import time

import faust
import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from faust.types import TP

from runtime.http import OpsServer
from runtime.retry import Backoff
from streams import state_store
from streams.continuity import Continuity
from streams.metrics import StreamsMetrics
from streams.processor import Processor
from streams.rules import Rules
from streams.settings import StreamsSettings
from streams.windows import WindowConfig
from telemetry.registry_file import RegistryFile
from telemetry.topics import KafkaTopics

logger = logging.getLogger(__name__)


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


async def ensure_streams_topics(settings: StreamsSettings) -> None:
    """The readings topic, the output topics and the state topic, with the partitions chosen for them."""
    from runtime.kafka_topics import ensure_topics

    topics = KafkaTopics(settings.topic_prefix)
    state = state_store.state_topic(settings.app_id)
    await ensure_topics(settings.kafka_bootstrap_servers, {
        name: settings.partitions for name in (settings.readings_topic or topics.readings, topics.aggregates, topics.aqi,
                                               topics.alerts, topics.late, state)
    }, replication=settings.replication, configs={state: state_store.TOPIC_CONFIG}, **settings.kafka_client_options())


class Offsets:
    """Log start and end offsets of the readings topic's partitions, from one long-lived client
    (metadata requests only: it fetches no records)."""

    def __init__(self, kafka: dict, topic: str) -> None:
        self.kafka, self.topic = kafka, topic
        self.consumer: AIOKafkaConsumer | None = None

    async def _client(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            self.consumer = AIOKafkaConsumer(**self.kafka, enable_auto_commit=False, group_id=None)
            await self.consumer.start()
        return self.consumer

    async def starts(self, partitions: set[int]) -> dict[int, int]:
        got = await (await self._client()).beginning_offsets([TopicPartition(self.topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in got.items()}

    async def ends(self, partitions: set[int]) -> dict[int, int]:
        got = await (await self._client()).end_offsets([TopicPartition(self.topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in got.items()}


def build_app(settings: StreamsSettings) -> faust.App:
    topics = KafkaTopics(settings.topic_prefix)
    metrics = StreamsMetrics()
    registry = RegistryFile(settings.registry)
    cfg = WindowConfig(sizes_s=tuple(sorted(settings.window_sizes_s)), lateness_s=settings.allowed_lateness_s)
    (settings.data_dir / settings.app_id).mkdir(parents=True, exist_ok=True)
    processor = Processor(topics, cfg, Rules.from_file(settings.rules), registry.current())
    app = faust.App(
        settings.app_id,
        broker=broker_urls(settings.kafka_bootstrap_servers),
        broker_credentials=settings.faust_credentials(),
        store="memory://",
        datadir=str(settings.data_dir / settings.app_id),
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        producer_acks=-1,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        table_standby_replicas=0,
        broker_session_timeout=settings.session_timeout_s,
        stream_buffer_maxsize=4 * settings.batch_size,
        broker_max_poll_records=settings.batch_size,
        consumer_max_fetch_size=4 * 1024 * 1024,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 4),
    )
    readings_topic = settings.readings_topic or topics.readings
    state_topic = state_store.state_topic(settings.app_id)
    source = app.topic(readings_topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                       partitions=settings.partitions)
    outputs = {name: app.topic(name, key_serializer="raw", value_serializer="raw", partitions=settings.partitions)
               for name in (topics.aggregates, topics.aqi, topics.alerts, topics.late, state_topic)}

    async def send_all(records: list[tuple[str, bytes, bytes, int | None]], what: str) -> None:
        """Send (topic, key, value, partition) records and wait until Kafka acknowledged every one."""
        backoff = Backoff(0.2, 5.0)
        while True:
            try:
                futures = [await outputs[t].send(key=k, value=v, partition=p, force=True) for t, k, v, p in records]
                await asyncio.gather(*futures)
                return
            except KafkaError as exc:
                logger.error("writing %d %s to Kafka failed (%s); retrying", len(records), what, exc)
                await backoff.wait()

    states: dict[bytes, dict] = {}  # district key -> state, for the assigned partitions
    owned: dict[int, set[bytes]] = {}  # readings partition -> its district keys (loaded partitions)
    continuity = Continuity(reseek_s=settings.idle_partition_s / 2)
    delivered_at: dict[int, float] = {}  # partition -> when Faust last delivered a batch of it
    kafka = settings.kafka_client()  # once: with TLS it holds an SSL context
    offsets = Offsets(kafka, readings_topic)

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender, revoked, **kwargs) -> None:
        for tp in revoked:
            if tp.topic == readings_topic:
                for key in owned.pop(tp.partition, ()):
                    states.pop(key, None)
                continuity.forget(tp.partition)

    async def load(partitions: set[int]) -> None:
        for p in sorted(partitions - set(owned)):
            loaded, mark = await state_store.load_partition(kafka, state_topic, p)
            states.update(loaded)
            owned[p] = set(loaded)
            # nothing applied yet: everything from the log's start
            continuity.expected[p] = mark + 1 if mark is not None else (await offsets.starts({p}))[p]
            delivered_at[p] = time.monotonic()
            logger.info("partition %d: loaded the state of %d districts; resuming at offset %d", p, len(loaded),
                        continuity.expected[p])

    async def seek_back(partition: int, offset: int) -> None:
        start = (await offsets.starts({partition}))[partition]
        if start > offset:  # retention deleted them: no seek can bring them back
            logger.error("partition %d of %s: offsets %d..%d were deleted by Kafka's retention before they were "
                         "applied; resuming at %d", partition, readings_topic, offset, start - 1, start)
            continuity.expected[partition] = start
            offset = start
        else:
            logger.warning("partition %d of %s: Faust delivered records beyond offset %d, which was not delivered; "
                           "seeking back to it", partition, readings_topic, offset)
        metrics.counts.labels("seeks").inc()
        await app.consumer.seek(TP(readings_topic, partition), offset)

    @app.agent(source, concurrency=1)
    async def process(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            started = time.monotonic()
            processor.registry = registry.current()
            records = [(e.message.partition, e.message.offset, e.message.key, e.message.value) for e in events]
            partitions = {p for p, _, _, _ in records}
            for partition in partitions:
                delivered_at[partition] = started
            await load(partitions)
            batch, seeks, replays = continuity.admit(records)
            for partition, offset in seeks:
                await seek_back(partition, offset)
            metrics.counts.labels("replayed_skipped").inc(replays)
            if not batch:
                continue
            outcome = processor.process(batch, states)
            await send_all([(t, k, v, None) for t, k, v in outcome.outputs], "results")
            await send_all([(state_topic, key, orjson.dumps(value), outcome.partitions[key])
                            for key, value in outcome.states.items()], "district states")
            for key, value in outcome.states.items():
                states[key] = value
                owned.setdefault(outcome.partitions[key], set()).add(key)
            continuity.applied(batch)
            applied = {p for p, _, _, _ in batch}
            await send_all([(state_topic, state_store.applied_key(p), state_store.encode_mark(continuity.expected[p] - 1),
                             p) for p in applied], "applied marks")
            metrics.events.inc(len(batch))
            for what, n in outcome.counts.items():
                metrics.counts.labels(what).inc(n)
            for topic, _, _ in outcome.outputs:
                metrics.outputs.labels(topic).inc()
            metrics.batch_seconds.observe(time.monotonic() - started)

    def health() -> dict:
        assigned = len(app.consumer.assignment()) if app.consumer else 0
        return {"ok": not app.rebalancing, "service": "streams", "app_id": settings.app_id,
                "assigned_partitions": assigned, "rebalancing": app.rebalancing}

    @app.task
    async def ops_endpoint() -> None:
        server = OpsServer(settings.metrics_host, settings.metrics_port, metrics.registry, health)
        await server.__aenter__()

    @app.timer(2.0)
    async def resume_idle_partitions() -> None:
        """Kafka holds records beyond what we applied, yet Faust delivered none for a while: seek back."""
        expected = dict(continuity.expected)
        if not expected or app.rebalancing:
            return
        try:
            ends = await offsets.ends(set(expected))
        except KafkaError as exc:
            logger.warning("could not read the log end offsets of %s (%s)", readings_topic, exc)
            return
        for partition, end in ends.items():
            idle = time.monotonic() - delivered_at.get(partition, 0.0)
            if end > expected[partition] and idle > settings.idle_partition_s:
                logger.warning("partition %d of %s: Kafka holds offsets %d..%d but none was delivered for %.0f s",
                               partition, readings_topic, expected[partition], end - 1, idle)
                await seek_back(partition, expected[partition])
                delivered_at[partition] = time.monotonic()

    @app.timer(5.0)
    async def reload_registry() -> None:
        registry.reload_if_changed()

    app.citysense_metrics = metrics  # for tests and benchmarks
    return app
