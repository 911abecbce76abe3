"""The worker's state, in a compacted Kafka topic the project owns: `<app id>.district-state.v1`,
one partition per readings partition.

Partition p of the state topic holds the state of every district whose readings are in partition
p of the readings topic (one record per district, the latest wins), and p's **applied mark**: the
last readings offset whose batch is complete — its outputs acknowledged by Kafka, then its district
states acknowledged, then the mark itself (streams/app.py awaits each step). The mark is the only
checkpoint: a worker that takes over partition p reads this partition to its end, then resumes at
mark + 1 (streams/continuity.py). A district's state also carries the last offset it applied, so a
batch whose states were only partly written before a crash is replayed without counting twice the
districts that were written.

No Faust table, no Faust changelog: their recovery lost records on a takeover (faust-streaming
0.15.3, docs/streams.md), and nothing here depends on Faust's internals.
"""

from __future__ import annotations

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

# Compacted: the latest record per key is all a takeover needs; a state may be large.
TOPIC_CONFIG = {"cleanup.policy": "compact", "max.message.bytes": str(8 * 1024 * 1024),
                "min.cleanable.dirty.ratio": "0.1", "segment.ms": str(3600 * 1000)}


def state_topic(app_id: str) -> str:
    return f"{app_id}.district-state.v1"


def rollup_state_topic(app_id: str) -> str:
    """The roll-up stage's state (streams/rollup.py), laid out the same way over the partials topic."""
    return f"{app_id}.rollup-state.v1"


def applied_key(partition: int) -> bytes:
    """The key of a partition's applied mark (never a district key: those are digits)."""
    return b"__applied__:%d" % partition


def encode_mark(offset: int) -> bytes:
    return str(offset).encode()


def split(latest: dict[bytes, bytes | None], partition: int) -> tuple[dict[bytes, dict], int | None]:
    """The district states of a loaded partition, and its applied mark (None: nothing applied yet)."""
    mark_value = latest.pop(applied_key(partition), None)
    states = {key: orjson.loads(value) for key, value in latest.items() if value is not None}
    return states, int(mark_value) if mark_value is not None else None


async def load_partitions(kafka: dict, topic: str, partitions: set[int]) -> dict[int, tuple[dict[bytes, dict], int | None]]:
    """Read these partitions of the state topic to their end offsets with one client (one connection
    set-up: with SASL over TLS that costs more than reading a partition); per partition, its states
    and applied mark (`kafka`: StreamsSettings.kafka_client)."""
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False, group_id=None)
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        latest: dict[int, dict[bytes, bytes | None]] = {tp.partition: {} for tp in tps}
        pending = [tp for tp in tps if await consumer.position(tp) < ends[tp]]
        while pending:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=1000)).items():
                for record in records:
                    latest[tp.partition][record.key] = record.value
            pending = [tp for tp in pending if await consumer.position(tp) < ends[tp]]
        return {p: split(values, p) for p, values in latest.items()}
    finally:
        await consumer.stop()
