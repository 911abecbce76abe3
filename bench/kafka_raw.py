"""Raw Kafka limits with aiokafka doing nothing else: produce (acks=all, idempotent, the gateway's
linger and batch size) and consume N messages of the platform's size (~300 bytes)."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from runtime.kafka_topics import ensure_topics

MESSAGE = (b'{"v":1,"device_id":"aq-288-01","district":288,"kind":"air_quality","ts":"2026-11-25T16:39:55Z",'
           b'"received_at":"2026-11-25T16:39:55.060302Z","seq":1,"status":"measuring","metrics":{"pm2_5":41.3,'
           b'"pm10":60.2,"co":812.0,"no2":40.1,"so2":10.4,"o3":50.0,"temperature":21.5,"humidity":70.0},'
           b'"format":"native"}')


async def _run(bootstrap: str, n: int) -> tuple[float, float]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, {topic: 12})
    keys = [str(d).encode() for d in (288, *range(290, 301))]
    async with AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=50,
                                max_batch_size=512 * 1024) as producer:
        start = time.perf_counter()
        futures = [await producer.send(topic, MESSAGE, key=keys[i % 12]) for i in range(n)]
        await asyncio.gather(*futures)
        produce = n / (time.perf_counter() - start)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"raw-{topic}", enable_auto_commit=False, fetch_max_bytes=16 * 1024 * 1024)
    await consumer.start()
    try:
        got, start = 0, None
        while got < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if batch and start is None:
                start = time.perf_counter()
            got += sum(len(v) for v in batch.values())
        consume = n / (time.perf_counter() - start)
    finally:
        await consumer.stop()
    return produce, consume


def raw_kafka(bootstrap: str, n: int = 100_000) -> tuple[float, float]:
    """(produce msgs/s, consume msgs/s)."""
    return asyncio.run(_run(bootstrap, n))
