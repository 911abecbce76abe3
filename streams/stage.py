"""One stateful stage of the worker: a source topic, a processor, and the processor's state in a
compacted topic of its own (streams/state_store.py), applied exactly once per record over
at-least-once delivery.

Two stages run in one worker: readings -> per-area windows, AQI, alerts (streams/processor.py), and
partials -> group and city roll-ups (streams/rollup.py). For each, per batch and each awaited
before the next: admit the records that follow each partition's applied offset
(streams/continuity.py; seek back on a hole) -> compute -> publish the outputs and wait for
Kafka's acks -> write the changed states (a tombstone for a forgotten one) and wait -> write each
partition's applied mark and wait. A crash at any point replays from the last mark; what was
published again is identical (storage keeps one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.structs import TopicPartition
from faust.types import TP

from runtime.retry import Backoff

from streams import state_store
from streams.continuity import Continuity
from streams.metrics import StreamsMetrics
from streams.ownership import Ownership

logger = logging.getLogger(__name__)

Send = Callable[[list[tuple[str, bytes, bytes | None, int | None]], str], Awaitable[None]]


class Offsets:
    """Log start and end offsets of a topic's partitions, from one long-lived client (metadata
    requests only: it fetches no records)."""

    def __init__(self, kafka: dict, topic: str) -> None:
        self.kafka, self.topic = kafka, topic
        self.consumer: AIOKafkaConsumer | None = None

    async def _client(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            consumer = AIOKafkaConsumer(**self.kafka, enable_auto_commit=False, group_id=None)
            try:
                await consumer.start()
            except BaseException:
                # Kept only once started: an unstarted client answers the next call with an
                # AttributeError, not a KafkaError, and that would end the stage's agent for good
                await consumer.stop()
                raise
            self.consumer = consumer
        return self.consumer

    async def starts(self, partitions: set[int]) -> dict[int, int]:
        got = await (await self._client()).beginning_offsets([TopicPartition(self.topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in got.items()}

    async def ends(self, partitions: set[int]) -> dict[int, int]:
        got = await (await self._client()).end_offsets([TopicPartition(self.topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in got.items()}


class Stage:
    def __init__(self, name: str, source: str, state_topic: str, processor, kafka: dict,
                 consumer: Callable[[], object], reseek_s: float, metrics: StreamsMetrics,
                 ownership: Ownership) -> None:
        self.name, self.source, self.state_topic, self.processor = name, source, state_topic, processor
        self.kafka, self.metrics = kafka, metrics
        self.states: dict[bytes, dict] = {}  # state key -> state, for the assigned partitions
        self.owned: dict[int, set[bytes]] = {}  # source partition -> its state keys (loaded partitions)
        self.continuity = Continuity(reseek_s=reseek_s)
        self.delivered_at: dict[int, float] = {}  # partition -> when Faust last delivered a batch of it
        self.offsets = Offsets(kafka, source)
        self.consumer = consumer  # Faust's consumer, once the app runs
        self.ownership = ownership

    def forget(self, partition: int) -> None:
        """The partition was revoked (or a batch of it abandoned): its state is loaded again from the
        state topic if it comes back."""
        self.ownership.revoked(partition)
        for key in self.owned.pop(partition, ()):
            self.states.pop(key, None)
        self.continuity.forget(partition)

    async def _until_done(self, what: str, call):
        """Kafka's answer to `call()`, however long Kafka is away: a stage cannot go on without it (an
        exception here would end the Faust agent, and with it the stage, for good)."""
        backoff = Backoff(0.5, 5.0)
        while True:
            try:
                return await call()
            except KafkaError as exc:
                logger.warning("%s: %s failed (%s); retrying", self.source, what, exc)
                await backoff.wait()

    async def load(self, partitions: set[int]) -> None:
        """The state of the batch's partitions not loaded yet — and of every other partition of the source
        the consumer holds now, in the same read (a worker's first batches would otherwise each load one)."""
        new = partitions - set(self.owned)
        if not new:
            return
        new |= self.ownership.assigned() - set(self.owned)
        epochs = self.ownership.snapshot(new)  # before the read: Kafka may be away for a long time
        everything = await self._until_done(f"loading the state of partitions {sorted(new)}", lambda: (
            state_store.load_partitions(self.kafka, self.state_topic, new)))
        for p, (loaded, mark) in sorted(everything.items()):
            if self.ownership.epochs.get(p, 0) != epochs[p]:
                # revoked while its state was read: what was read may be older than what the new owner
                # writes from now on; if the partition comes back, it is read again then
                logger.info("%s, partition %d: revoked while its state was loaded; not kept", self.source, p)
                continue
            if mark is None:  # nothing applied yet: everything from the log's start
                mark = (await self._until_done("reading the log start", lambda p=p: self.offsets.starts({p})))[p] - 1
            self.states.update(loaded)
            self.owned[p] = set(loaded)
            self.continuity.expected[p] = mark + 1
            self.delivered_at[p] = time.monotonic()
            logger.info("%s, partition %d: loaded %d states; resuming at offset %d", self.source, p, len(loaded),
                        self.continuity.expected[p])

    async def seek_back(self, partition: int, offset: int) -> None:
        start = (await self._until_done("reading the log start", lambda: self.offsets.starts({partition})))[partition]
        if start > offset:  # retention deleted them: no seek can bring them back
            logger.error("partition %d of %s: offsets %d..%d were deleted by Kafka's retention before they were "
                         "applied; resuming at %d", partition, self.source, offset, start - 1, start)
            self.continuity.expected[partition] = start
            offset = start
        else:
            logger.warning("partition %d of %s: Faust delivered records beyond offset %d, which was not delivered; "
                           "seeking back to it", partition, self.source, offset)
        self.metrics.counts.labels("seeks").inc()
        # seek_wait, not seek: Faust's consumer runs aiokafka in a thread of its own, and `seek` changes
        # aiokafka's fetcher from this thread while that thread may be draining it (a KeyError there
        # crashed a worker: docs/streams.md); seek_wait seeks in the consumer's thread
        try:
            await self.consumer().seek_wait({TP(self.source, partition): offset})
        except (IllegalStateError, asyncio.TimeoutError) as exc:
            # no longer assigned (a rebalance under way): its next owner resumes at the mark; if it
            # stays ours, the next delivery beyond the offset seeks again after reseek_s
            logger.warning("partition %d of %s: not sought back to %d (%r)", partition, self.source, offset, exc)

    async def run(self, events, send_all: Send) -> None:
        started = time.monotonic()
        records = [(e.message.partition, e.message.offset, e.message.key, e.message.value) for e in events]
        partitions = {p for p, _, _, _ in records}
        for partition in partitions:
            self.delivered_at[partition] = started
        # taken before the load, which may wait for Kafka a long time: a revocation meanwhile is seen
        epochs = self.ownership.snapshot(partitions)
        await self.load(partitions)
        batch, seeks, replays = self.continuity.admit(records)
        for partition, offset in seeks:
            await self.seek_back(partition, offset)
        self.metrics.counts.labels("replayed_skipped").inc(replays)
        if not batch:
            return
        epochs = {p: epochs[p] for p, _, _, _ in batch}
        outcome = self.processor.process(batch, self.states)
        await send_all([(t, k, v, None) for t, k, v in outcome.outputs], f"{self.name} results")
        if await self._abandoned(epochs, started):
            return
        await send_all([(self.state_topic, key, None if value is None else orjson.dumps(value),
                         outcome.partitions[key]) for key, value in outcome.states.items()], f"{self.name} states")
        if await self._abandoned(epochs, started):
            return
        for key, value in outcome.states.items():
            if value is None:
                self.states.pop(key, None)
                self.owned.get(outcome.partitions[key], set()).discard(key)
            else:
                self.states[key] = value
                self.owned.setdefault(outcome.partitions[key], set()).add(key)
        self.continuity.applied(batch)
        applied = {p for p, _, _, _ in batch}
        await send_all([(self.state_topic, state_store.applied_key(p),
                         state_store.encode_mark(self.continuity.expected[p] - 1), p) for p in applied],
                       f"{self.name} applied marks")
        (self.metrics.events if self.name == "readings" else self.metrics.partials).inc(len(batch))
        for what, n in outcome.counts.items():
            self.metrics.counts.labels(what).inc(n)
        for topic, _, _ in outcome.outputs:
            self.metrics.outputs.labels(topic).inc()
        self.metrics.batch_seconds.labels(self.name).observe(time.monotonic() - started)

    async def _abandoned(self, epochs: dict[int, int], started: float) -> bool:
        """True when the batch must stop here: some of its partitions may belong to another worker now
        (streams/ownership.py). The processor already changed the in-memory states of all of them, so all
        are forgotten: those still ours are loaded again from the topic and replayed from their mark."""
        lost = await self.ownership.lost(epochs, started)
        if not lost:
            return False
        logger.warning("%s: batch abandoned after %.1f s: partitions %s may have moved to another worker "
                       "(revoked, or this worker was cut off from Kafka); their states are not written",
                       self.source, time.monotonic() - started, sorted(lost))
        for partition in epochs:
            self.forget(partition)
        self.metrics.counts.labels("batches_abandoned").inc()
        return True

    async def resume_idle(self, idle_partition_s: float) -> None:
        """Kafka holds records beyond what we applied, yet Faust delivered none for a while: seek back."""
        expected = dict(self.continuity.expected)
        if not expected:
            return
        ends = await self.offsets.ends(set(expected))
        for partition, end in ends.items():
            idle = time.monotonic() - self.delivered_at.get(partition, 0.0)
            if end > expected[partition] and idle > idle_partition_s:
                logger.warning("partition %d of %s: Kafka holds offsets %d..%d but none was delivered for %.0f s",
                               partition, self.source, expected[partition], end - 1, idle)
                await self.seek_back(partition, expected[partition])
                self.delivered_at[partition] = time.monotonic()
