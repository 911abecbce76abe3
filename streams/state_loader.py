"""Load the district states of one partition from the table's changelog topic, to its end.

Why the worker does this itself: with faust-streaming 0.15.3's in-memory store, a worker that took
over a partition after another was killed recovered a stale state (the changelog's last record of
the partition was not applied; seen in tests/integration/streams, and Faust's recovery has open
reports: faust-streaming #597, #651, #432). So before the agent touches a partition for the first
time in an assignment, it reads that partition of the changelog to its end offset and keeps the
last value of each key. The changelog is compacted, so this stays small.
"""

from __future__ import annotations

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition


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
