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
from streams import gaps
from streams.metrics import StreamsMetrics
from streams.processor import Processor
from streams.rules import Rules
from streams.settings import StreamsSettings
from streams.state_loader import load_partition
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
    source = app.topic(settings.readings_topic or topics.readings, key_type=bytes, value_type=bytes, key_serializer="raw",
                       value_serializer="raw", partitions=settings.partitions)
    outputs = {name: app.topic(name, key_serializer="raw", value_serializer="raw", partitions=settings.partitions)
               for name in (topics.aggregates, topics.aqi, topics.alerts, topics.late)}
    # A district's state is written to the changelog partition of the same number as its readings'
    # partition (explicitly: a batch mixes partitions, so Faust's "current event" cannot say which).
    state = app.Table("district-state", default=None, partitions=settings.partitions,
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
    bridged: set[int] = set()  # partitions whose Faust commit position was bridged in this assignment

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender, revoked, **kwargs) -> None:
        for tp in revoked:
            if tp.topic == source.get_topic_name():
                loaded.discard(tp.partition)
                expected.pop(tp.partition, None)
                bridged.discard(tp.partition)

    async def mark_done_for_faust(batch_firsts: dict[int, int], skipped: list[tuple[int, int, int]]) -> None:
        """Tell Faust's consumer that offsets it never delivered are done, or its commits stop there.

        Faust commits only consecutive acknowledged offsets from its committed position. Records it
        skipped and we fetched (streams/gaps.py) are done; so is everything between the committed
        position and the first offset Faust delivered in a new assignment (applied before, or fetched).
        """
        ranges = list(skipped)
        for partition, first in batch_firsts.items():
            if partition not in bridged:
                bridged.add(partition)
                committed = app.consumer._committed_offset.get(TP(source.get_topic_name(), partition))
                if committed is not None and first > committed:
                    ranges.append((partition, committed, first))
        for partition, start, end in ranges:
            await app.consumer._add_gap(TP(source.get_topic_name(), partition), start, end - 1)

    async def ensure_loaded(partitions: set[int]) -> None:
        for p in sorted(partitions - loaded):
            latest = await load_partition(settings.kafka_client(), state.changelog_topic_name, p)
            for key, value in latest.items():
                if value is None:
                    state.data.pop(key, None)
                else:
                    state.data[key] = value
            applied = [v["last_offset"] for v in latest.values() if v and v.get("last_offset", -1) >= 0]
            if applied:
                expected[p] = max(applied) + 1
            loaded.add(p)
            logger.info("loaded the state of %d districts of partition %d", len(latest), p)

    @app.agent(source, concurrency=1)
    async def process(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            started = time.monotonic()
            processor.registry = registry.current()
            batch = [(e.message.partition, e.message.offset, e.message.key, e.message.value) for e in events]
            firsts: dict[int, int] = {}
            for partition, offset, _, _ in batch:
                firsts[partition] = min(offset, firsts.get(partition, offset))
            await ensure_loaded({p for p, _, _, _ in batch})
            batch, skipped = await gaps.complete(batch, expected, settings.kafka_client(), source.get_topic_name())
            outcome = processor.process(batch, state.data)
            await publish(outcome.outputs)
            for key, value in outcome.states.items():
                state.data[key] = value
                state.send_changelog(outcome.partitions[key], key, value)
            gaps.advance(batch, expected)
            await mark_done_for_faust(firsts, skipped)
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

    @app.timer(5.0)
    async def reload_registry() -> None:
        registry.reload_if_changed()

    app.citysense_metrics = metrics  # for tests and benchmarks
    return app
