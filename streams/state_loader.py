"""Load the district states of one partition from the table's changelog topic, to its end.

Why the worker does this itself: with faust-streaming 0.15.3's in-memory store, a worker that took
over a partition after another was killed recovered a stale state (the changelog's last record of
the partition was not applied; seen in tests/integration/streams, and Faust's recovery has open
reports: faust-streaming #597, #651, #432). So before the agent touches a partition for the first
time in an assignment, it reads that partition of the changelog to its end offset and keeps the
last value of each key. The changelog is compacted, so this stays small.

Besides one entry per district, each changelog partition holds the partition's applied mark: the
last readings offset whose batch is complete in the changelog, written after the batch's district
states (same partition, so it lands only if they did). The next offset to apply after a takeover is
that mark + 1. The largest `last_offset` of the districts would overshoot when a worker died
between two districts' states: the district whose state was lost would see its readings as replays.
"""

from __future__ import annotations

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition


def applied_key(partition: int) -> bytes:
    """The changelog key of a partition's applied mark (never a district key: those are digits)."""
    return b"__applied__:%d" % partition


def split_applied(latest: dict[bytes, dict | int | None],
                  partition: int) -> tuple[dict[bytes, dict | None], int | None]:
    """The district states of a loaded partition, and its applied mark (None if none was written)."""
    states = dict(latest)
    mark = states.pop(applied_key(partition), None)
    if mark is None:  # a changelog from before the mark existed: the districts' own offsets
        offsets = [v["last_offset"] for v in states.values() if v and v.get("last_offset", -1) >= 0]
        mark = max(offsets) if offsets else None
    return states, mark


async def load_partition(kafka: dict, topic: str, partition: int) -> dict[bytes, dict | None]:
    """`kafka`: bootstrap_servers and security options (StreamsSettings.kafka_client)."""
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        latest: dict[bytes, dict | None] = {}
        while await consumer.position(tp) < end:
            for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                latest[record.key] = orjson.loads(record.value) if record.value is not None else None
        return latest
    finally:
        await consumer.stop()
