"""Create the platform's Kafka topics explicitly, with the partitions chosen for them (idempotent)."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

logger = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, topics: dict[str, int], replication: int = 1,
                        configs: dict[str, dict[str, str]] | None = None, defaults: dict[str, str] | None = None,
                        **client_options) -> list[str]:
    """Create each topic (name -> partitions) that does not exist yet, with `replication`, the
    `defaults` every topic gets (min.insync.replicas, …: KafkaSecurity.kafka_topic_defaults) and its
    own configs (name -> {config: value}, e.g. cleanup.policy); returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        configs = configs or {}
        missing = [NewTopic(name, parts, replication, topic_configs={**(defaults or {}), **configs.get(name, {})})
                   for name, parts in topics.items() if name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # created meanwhile by another process
            logger.info("created Kafka topics %s", ", ".join(t.name for t in missing))
        return [t.name for t in missing]
    finally:
        await admin.close()
