"""Offset continuity of the readings topic, per partition: find the offsets a batch skipped and
fetch them from Kafka directly, so no window closes over readings the worker never saw.

Why: after a worker was killed, the worker taking over its partitions sometimes received a first
batch, then the next batch started far beyond it (faust-streaming 0.15.3 resumes the flow before it
seeks to the committed offsets during recovery, and messages fetched in between were dropped;
tests/integration/streams/test_worker.py caught hourly windows of 38 and 55 readings instead of 60).
The worker knows the next offset it must apply per partition (from the loaded district states and
then from each batch), so a batch that starts beyond it, or has a hole, is completed here before it
is processed, and the hole is then reported to Faust's consumer as acknowledged (without that its
offset commits would stop at the hole for good: it commits only consecutive acknowledged offsets).
A partition where Kafka holds offsets beyond the expected one but Faust delivers nothing more (it
dropped the rest of a fetch) is found by a periodic check against the log end, and Faust's
consumer is sought back to the expected offset. A hole with no records (a transaction marker)
costs one fetch and is then passed. Offsets below the expected one are replays; the district
states skip them.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streams.exceptions import OffsetGapError

logger = logging.getLogger(__name__)

Record = tuple[int, int, bytes | None, bytes]  # partition, offset, key, value


def find_gaps(batch: list[Record], expected: dict[int, int]) -> list[tuple[int, int, int]]:
    """(partition, first missing offset, end exclusive) of every hole at or after the expected offset."""
    offsets: dict[int, list[int]] = {}
    for partition, offset, _, _ in batch:
        offsets.setdefault(partition, []).append(offset)
    gaps = []
    for partition, seen in sorted(offsets.items()):
        cursor = expected.get(partition)
        if cursor is None:  # nothing applied yet in this assignment: the batch itself sets the start
            continue
        for offset in sorted(seen):
            if offset > cursor:
                gaps.append((partition, cursor, offset))
            cursor = max(cursor, offset + 1)
    return gaps


def advance(batch: list[Record], expected: dict[int, int]) -> None:
    """After a batch is applied: the next offset expected from each of its partitions."""
    for partition, offset, _, _ in batch:
        if offset + 1 > expected.get(partition, -1):
            expected[partition] = offset + 1


async def fetch_range(kafka: dict, topic: str, partition: int, start: int, end: int,
                      timeout_s: float = 30.0) -> list[Record]:
    """The records of offsets [start, end) of one partition (raises OffsetGapError if Kafka does not answer)."""
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    tp = TopicPartition(topic, partition)
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        while await consumer.position(tp) < end:
            if time.monotonic() > deadline:
                raise OffsetGapError(topic, partition, start, end)
            for r in (await consumer.getmany(tp, timeout_ms=500)).get(tp, []):
                if start <= r.offset < end:
                    records.append((partition, r.offset, r.key, r.value))
        return records
    except asyncio.TimeoutError as exc:
        raise OffsetGapError(topic, partition, start, end) from exc
    finally:
        await consumer.stop()


async def log_start(kafka: dict, topic: str, partition: int) -> int:
    """The first offset Kafka still holds in a partition (where a partition without state starts)."""
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        return (await consumer.beginning_offsets([tp]))[tp]
    finally:
        await consumer.stop()


class EndOffsets:
    """The log end offsets of partitions, from one long-lived consumer (for the idle-partition check)."""

    def __init__(self, kafka: dict) -> None:
        self.kafka = kafka
        self.consumer: AIOKafkaConsumer | None = None

    async def get(self, topic: str, partitions: set[int]) -> dict[int, int]:
        if self.consumer is None:
            self.consumer = AIOKafkaConsumer(**self.kafka, enable_auto_commit=False, group_id=None)
            await self.consumer.start()
        ends = await self.consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: end for tp, end in ends.items()}


async def complete(batch: list[Record], expected: dict[int, int], kafka: dict,
                   topic: str) -> tuple[list[Record], list[tuple[int, int, int]]]:
    """The batch with every skipped record of its partitions fetched and put before it, and the gaps."""
    gaps = find_gaps(batch, expected)
    if not gaps:
        return batch, gaps
    fetched: list[Record] = []
    for partition, start, end in gaps:
        got = await fetch_range(kafka, topic, partition, start, end)
        logger.warning("partition %d of %s skipped offsets %d..%d; fetched %d records of them directly",
                       partition, topic, start, end - 1, len(got))
        fetched += got
    return fetched + batch, gaps
