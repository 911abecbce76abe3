"""The Faust app of the streams worker: two agents, each a stateful stage (streams/stage.py) —
readings -> per-area windows, AQI and alerts; partials -> group and city roll-ups — with their
states and each partition's applied mark in compacted topics the project owns
(streams/state_store.py). Built by `build_app()` (no module-level state).
"""

from __future__ import annotations

import asyncio
import logging

import faust
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from runtime.http import OpsServer
from runtime.retry import Backoff
from streams import state_store
from streams.metrics import StreamsMetrics
from streams.places import Places
from streams.processor import Processor
from streams.rollup import RollupProcessor
from streams.rules import Rules
from streams.settings import StreamsSettings
from streams.ownership import Ownership
from streams.stage import Stage
from streams.windows import WindowConfig
from telemetry.areas import AreaRegistry
from telemetry.registry_file import RegistryFile
from telemetry.topics import KafkaTopics

logger = logging.getLogger(__name__)


def heartbeat_interval_s(settings: StreamsSettings) -> float:
    return max(1.0, settings.session_timeout_s / 4)


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


async def ensure_streams_topics(settings: StreamsSettings) -> None:
    """The readings topic, the output topics and the state topic, with the partitions chosen for them."""
    from runtime.kafka_topics import ensure_topics

    topics = KafkaTopics(settings.topic_prefix)
    state = state_store.state_topic(settings.app_id)
    rollup_state = state_store.rollup_state_topic(settings.app_id)
    await ensure_topics(settings.kafka_bootstrap_servers, {
        name: settings.partitions for name in (settings.readings_topic or topics.readings, topics.aggregates, topics.aqi,
                                               topics.alerts, topics.late, topics.partials, state, rollup_state)
    }, **{**settings.kafka_topic_defaults(), "replication": settings.topic_replication},
        configs={state: state_store.TOPIC_CONFIG, rollup_state: state_store.TOPIC_CONFIG}, **settings.kafka_client_options())


def build_app(settings: StreamsSettings) -> faust.App:
    topics = KafkaTopics(settings.topic_prefix)
    metrics = StreamsMetrics()
    registry = RegistryFile(settings.registry)
    cfg = WindowConfig(sizes_s=tuple(sorted(settings.window_sizes_s)), lateness_s=settings.allowed_lateness_s)
    (settings.data_dir / settings.app_id).mkdir(parents=True, exist_ok=True)
    places = Places(AreaRegistry.named(settings.area_set))
    processor = Processor(topics, cfg, Rules.from_file(settings.rules), registry.current(), places)
    rollups = RollupProcessor(topics, places, settings.rollup_idle_s)
    app = faust.App(
        settings.app_id,
        broker=broker_urls(settings.kafka_bootstrap_servers),
        broker_credentials=settings.faust_credentials(),
        store="memory://",
        datadir=str(settings.data_dir / settings.app_id),
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.topic_replication,
        producer_acks=-1,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        table_standby_replicas=0,
        broker_session_timeout=settings.session_timeout_s,
        stream_buffer_maxsize=4 * settings.batch_size,
        broker_max_poll_records=settings.batch_size,
        consumer_max_fetch_size=4 * 1024 * 1024,
        broker_heartbeat_interval=heartbeat_interval_s(settings),
    )
    readings_topic = settings.readings_topic or topics.readings
    state_topic = state_store.state_topic(settings.app_id)
    rollup_state = state_store.rollup_state_topic(settings.app_id)
    source, partial_source = (app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                                        value_serializer="raw", partitions=settings.partitions)
                              for name in (readings_topic, topics.partials))

    async def send_all(records: list[tuple[str, bytes, bytes | None, int | None]], what: str) -> None:
        """Send (topic, key, value, partition) records and wait until Kafka acknowledged every one.

        Straight to Faust's producer (`app.producer.send`, the same client, acks=all), not through
        `Topic.send`: that builds a FutureMessage, a channel future and callbacks for each record,
        which cost more than the windows themselves with ~4 output records per reading (today's
        114 communes and their roll-ups; docs/performance.md). The topics were created at start-up."""
        backoff = Backoff(0.2, 5.0)
        while True:
            try:
                send = app.producer.send
                futures = [await send(t, k, v, p, None, None) for t, k, v, p in records]
                await asyncio.gather(*futures)
                return
            except (KafkaError, ProducerSendError) as exc:
                logger.error("writing %d %s to Kafka failed (%s); retrying", len(records), what, exc)
                await backoff.wait()

    kafka = settings.kafka_client()  # once: with TLS it holds an SSL context
    def held(topic: str) -> set[int]:
        return {tp.partition for tp in (app.consumer.assignment() if app.consumer else ()) if tp.topic == topic}

    def ownership(topic: str) -> Ownership:  # a stall past half the session may have outlived it
        return Ownership(lease_s=settings.session_timeout_s / 2, confirm_s=1.5 * heartbeat_interval_s(settings),
                         assigned=lambda: held(topic), rebalancing=lambda: app.rebalancing)

    stages = {
        name: Stage(what, name, state, proc, kafka, lambda: app.consumer, settings.idle_partition_s / 2, metrics,
                    ownership(name))
        for what, name, state, proc in (("readings", readings_topic, state_topic, processor),
                                        ("partials", topics.partials, rollup_state, rollups))
    }

    @app.on_partitions_revoked.connect
    async def forget_revoked(sender, revoked, **kwargs) -> None:
        for tp in revoked:
            if tp.topic in stages:
                stages[tp.topic].forget(tp.partition)

    @app.agent(source, concurrency=1)
    async def process(stream):
        stage = stages[readings_topic]
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            processor.registry = registry.current()
            await stage.run(events, send_all)

    @app.agent(partial_source, concurrency=1)
    async def roll_up(stream):
        stage = stages[topics.partials]
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            await stage.run(events, send_all)

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
        if app.rebalancing:
            return
        for stage in stages.values():
            try:
                await stage.resume_idle(settings.idle_partition_s)
            except KafkaError as exc:
                logger.warning("could not read the log end offsets of %s (%s)", stage.source, exc)

    @app.timer(5.0)
    async def reload_registry() -> None:
        registry.reload_if_changed()

    app.citysense_metrics = metrics  # for tests and benchmarks
    return app
