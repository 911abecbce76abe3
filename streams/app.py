"""The Faust app of the streams worker: one agent over the readings topic, batched, with the
district state in a changelogged table. Built by `build_app()` (no module-level state).

Order of effects per batch: compute -> publish outputs and wait for Kafka's acks -> store the new
district states (table changelog) -> Faust acks the events (offsets are committed after the
producer is flushed). A crash at any point replays the batch: offsets already in a district's
state are skipped; outputs of a batch whose state was not stored are published again, identical.
"""

from __future__ import annotations

import asyncio
import logging
import time

import faust
from faust.types import TP
from aiokafka.errors import KafkaError

from runtime.http import OpsServer
from streams import faust_commits, gaps
from streams.metrics import StreamsMetrics
from streams.processor import Processor
from streams.rules import Rules
from streams.settings import StreamsSettings
from streams.state_loader import applied_key, load_partition, split_applied
from streams.windows import WindowConfig
from telemetry.registry_file import RegistryFile
from telemetry.topics import KafkaTopics

logger = logging.getLogger(__name__)


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


async def ensure_streams_topics(settings: StreamsSettings) -> None:
    """The readings topic and the output topics, with the partitions chosen for them."""
    from runtime.kafka_topics import ensure_topics

    topics = KafkaTopics(settings.topic_prefix)
    await ensure_topics(settings.kafka_bootstrap_servers, {
        name: settings.partitions for name in (settings.readings_topic or topics.readings, topics.aggregates, topics.aqi,
                                               topics.alerts, topics.late)
    }, replication=settings.replication, **settings.kafka_client_options())


def build_app(settings: StreamsSettings) -> faust.App:
    topics = KafkaTopics(settings.topic_prefix)
    metrics = StreamsMetrics()
    registry = RegistryFile(settings.registry)
    cfg = WindowConfig(sizes_s=tuple(sorted(settings.window_sizes_s)), lateness_s=settings.allowed_lateness_s,
                       max_future_s=settings.max_future_s)
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
    source = app.topic(readings_topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                       partitions=settings.partitions)
    outputs = {name: app.topic(name, key_serializer="raw", value_serializer="raw", partitions=settings.partitions)
               for name in (topics.aggregates, topics.aqi, topics.alerts, topics.late)}
    # A district's state is written to the changelog partition of the same number as its readings'
    # partition (explicitly: a batch mixes partitions, so Faust's "current event" cannot say which).
    # key_type, not only the schema: Faust's recovery decodes changelog keys by the table's key_type
    # (JSON when unset: district keys happen to be JSON numbers, the partitions' applied marks not).
    state = app.Table("district-state", default=None, partitions=settings.partitions, key_type=bytes,
                      schema=faust.Schema(key_type=bytes, key_serializer="raw", value_serializer="json"),
                      help="per-district windows, watermark, AQI history, alerts")

    async def publish(outs: list[tuple[str, bytes, bytes]]) -> None:
        backoff = 0.2
        while True:
            try:
                futures = [await outputs[t].send(key=k, value=v, force=True) for t, k, v in outs]
                await asyncio.gather(*futures)
                return
            except KafkaError as exc:
                logger.error("publishing %d results failed (%s); retrying", len(outs), exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    loaded: set[int] = set()  # partitions whose district states were loaded in this assignment
    expected: dict[int, int] = {}  # partition -> next readings offset to apply (streams/gaps.py)
    delivered_at: dict[int, float] = {}  # partition -> when Faust last delivered a batch of it
    kafka = settings.kafka_client()  # once: with TLS it holds an SSL context
    log_ends = gaps.EndOffsets(kafka)

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender, revoked, **kwargs) -> None:
        for tp in revoked:
            if tp.topic == readings_topic:
                loaded.discard(tp.partition)
                expected.pop(tp.partition, None)

    @app.timer(2.0)
    async def unstall_commits() -> None:
        """Faust's commits stop at offsets it never delivered and crawl over replays: repair them."""
        await faust_commits.repair(app.consumer, readings_topic, expected)

    async def ensure_loaded(partitions: set[int]) -> None:
        for p in sorted(partitions - loaded):
            latest, applied = split_applied(await load_partition(kafka, state.changelog_topic_name, p), p)
            for key, value in latest.items():
                if value is None:
                    state.data.pop(key, None)
                else:
                    state.data[key] = value
            # nothing applied yet: everything from the log's start must be seen (gaps.py fetches it)
            if applied is None:
                expected[p] = await gaps.log_start(kafka, readings_topic, p)
            else:
                expected[p] = applied + 1
            loaded.add(p)
            delivered_at[p] = time.monotonic()
            logger.info("loaded the state of %d districts of partition %d", len(latest), p)

    @app.agent(source, concurrency=1)
    async def process(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            started = time.monotonic()
            processor.registry = registry.current()
            batch = [(e.message.partition, e.message.offset, e.message.key, e.message.value) for e in events]
            partitions = {p for p, _, _, _ in batch}
            for partition in partitions:
                delivered_at[partition] = started
            await ensure_loaded(partitions)
            batch, skipped = await gaps.complete(batch, expected, kafka, readings_topic)
            outcome = processor.process(batch, state.data)
            await publish(outcome.outputs)
            for key, value in outcome.states.items():
                state.data[key] = value
                state.send_changelog(outcome.partitions[key], key, value)
            gaps.advance(batch, expected)
            for partition in partitions:  # after the districts' states: complete only if they are
                state.send_changelog(partition, applied_key(partition), expected[partition] - 1)
            for partition, start, end in skipped:  # fetched by us: done as far as Faust's commits go
                await faust_commits.mark_done(app.consumer, readings_topic, partition, start, end)
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
        if not expected or app.rebalancing:
            return
        try:
            ends = await log_ends.get(readings_topic, set(expected))
        except KafkaError as exc:
            logger.warning("could not read the log end offsets of %s (%s)", readings_topic, exc)
            return
        for partition, end in ends.items():
            idle = time.monotonic() - delivered_at.get(partition, 0.0)
            if partition in expected and end > expected[partition] and idle > settings.idle_partition_s:
                logger.warning("partition %d of %s: Kafka holds offsets %d..%d but none was delivered for %.0f s; "
                               "seeking back to %d", partition, readings_topic, expected[partition], end - 1, idle,
                               expected[partition])
                await app.consumer.seek(TP(readings_topic, partition), expected[partition])
                delivered_at[partition] = time.monotonic()

    @app.timer(5.0)
    async def reload_registry() -> None:
        registry.reload_if_changed()

    app.citysense_metrics = metrics  # for tests and benchmarks
    return app
