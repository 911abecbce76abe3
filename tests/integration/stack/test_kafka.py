"""Kafka of the local stack: create a topic with the admin client; produce (acks=all, idempotent) and consume."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def test_create_produce_consume(kafka_bootstrap, unique):
    topic = f"test.stack.{unique}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        assert topic in await admin.list_topics()
    finally:
        await admin.close()

    async with AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    ) as producer:
        for i in range(30):
            md = await producer.send_and_wait(topic, f"v{i}".encode(), key=f"k{i % 3}".encode())
            assert md.offset >= 0

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id=f"test-{unique}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    await consumer.start()
    try:
        values = []
        while len(values) < 30:
            batch = await consumer.getmany(timeout_ms=10_000)
            assert batch, "no records within 10 s"
            for records in batch.values():
                values += [(r.key, r.value) for r in records]
        await consumer.commit()
    finally:
        await consumer.stop()
    assert sorted(v for _, v in values) == sorted(f"v{i}".encode() for i in range(30))
    # Keyed records land in one partition per key, in order.
    by_key: dict[bytes, list[int]] = {}
    for k, v in values:
        by_key.setdefault(k, []).append(int(v[1:]))
    assert all(seq == sorted(seq) for seq in by_key.values())
