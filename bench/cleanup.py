"""Delete the Kafka topics the benchmarks made, once a `make bench` run is over.

Each stage makes its own topics under a fresh random prefix (readings, aggregates, … and Faust's
own), 12 partitions each: one `make bench` leaves ~1,200 partitions. Left on a developer's stack,
they pile up (6,670 partitions, 8 GB after a day here) and Kafka spends CPU on them that the next
benchmark then counts as the platform's.

    .venv/bin/python -m bench.cleanup      # the same, by hand (e.g. after an interrupted run)
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiokafka.admin import AIOKafkaAdminClient

from stack.settings import StackSettings

logger = logging.getLogger(__name__)

# the prefixes the bench modules give their topics (a random 8-hex token follows each)
BENCH_TOPIC = re.compile(r"^(bench|bench-|bench-raw-|bench-streams-|benchsink|e2ebench|ingest)[0-9a-f]{8}([.-]|$)")


def bench_topics(names: list[str]) -> list[str]:
    return [n for n in names if BENCH_TOPIC.match(n)]


async def delete_bench_topics(bootstrap: str) -> int:
    """Delete every benchmark topic; returns how many. Never raises: a cleanup must not hide results."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        await admin.start()
        doomed = bench_topics(await admin.list_topics())
        for i in range(0, len(doomed), 100):
            await admin.delete_topics(doomed[i:i + 100], timeout_ms=30_000)
        return len(doomed)
    except Exception as exc:  # noqa: BLE001
        logger.warning("could not delete the benchmark topics from Kafka at %s (%s): run "
                       "`.venv/bin/python -m bench.cleanup` later", bootstrap, exc)
        return 0
    finally:
        await admin.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(f"deleted {asyncio.run(delete_bench_topics(StackSettings().kafka_bootstrap))} benchmark topics")
