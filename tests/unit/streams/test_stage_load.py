"""A stage loading partition state while Kafka is slow: a partition revoked during the read is not kept
(its state may be older than what the new owner writes meanwhile), and a batch whose partition was
revoked during the load writes nothing for it. The state topic is replaced by an in-memory fake."""

from __future__ import annotations

import asyncio

import pytest

from streams import stage as stage_module
from streams.metrics import StreamsMetrics
from streams.ownership import Ownership
from streams.stage import Stage

pytestmark = pytest.mark.unit


class Message:
    def __init__(self, partition: int, offset: int) -> None:
        self.partition, self.offset, self.key, self.value = partition, offset, b"k", b"{}"


class Event:
    def __init__(self, partition: int, offset: int) -> None:
        self.message = Message(partition, offset)


class CountingProcessor:
    def __init__(self) -> None:
        self.batches: list[list] = []

    def process(self, batch, states):
        from streams.processor import BatchOutcome
        self.batches.append(batch)
        return BatchOutcome()


def make_stage(held: set[int]) -> tuple[Stage, CountingProcessor]:
    processor = CountingProcessor()
    ownership = Ownership(lease_s=60.0, confirm_s=0.01, assigned=lambda: held, rebalancing=lambda: False)
    stage = Stage("readings", "src", "state", processor, {}, consumer=lambda: None, reseek_s=5.0,
                  metrics=StreamsMetrics(), ownership=ownership)
    return stage, processor


def slow_state_topic(monkeypatch, during_read):
    """load_partitions that calls `during_read` while it 'waits for Kafka'; every partition has a mark at 9."""
    async def load_partitions(kafka, topic, partitions):
        await asyncio.sleep(0)
        during_read()
        return {p: ({b"%d" % (100 + p): {"p": p}}, 9) for p in partitions}
    monkeypatch.setattr(stage_module.state_store, "load_partitions", load_partitions)


async def test_a_partition_revoked_while_its_state_is_read_is_not_kept(monkeypatch):
    stage, _ = make_stage(held={1, 2})
    slow_state_topic(monkeypatch, lambda: stage.forget(2))
    await stage.load({1, 2})
    assert set(stage.owned) == {1}
    assert set(stage.states) == {b"101"}
    assert stage.continuity.expected == {1: 10}


async def test_a_batch_whose_partition_was_revoked_during_the_load_writes_nothing_for_it(monkeypatch):
    stage, processor = make_stage(held={1, 2})
    sent: list = []

    async def send_all(messages, what):
        sent.append(what)

    slow_state_topic(monkeypatch, lambda: stage.forget(2))
    await stage.run([Event(1, 10), Event(2, 10)], send_all)
    assert processor.batches == [[(1, 10, b"k", b"{}")]]  # partition 2 is not admitted: not loaded
    assert "readings applied marks" in sent
    assert set(stage.owned) == {1}


async def test_without_a_revocation_both_partitions_are_loaded_and_applied(monkeypatch):
    stage, processor = make_stage(held={1, 2})
    sent: list = []

    async def send_all(messages, what):
        sent.append((what, messages))

    slow_state_topic(monkeypatch, lambda: None)
    await stage.run([Event(1, 10), Event(2, 10)], send_all)
    assert processor.batches == [[(1, 10, b"k", b"{}"), (2, 10, b"k", b"{}")]]
    marks = dict(sent)["readings applied marks"]
    assert sorted((m[1], m[2]) for m in marks) == [(b"__applied__:1", b"10"), (b"__applied__:2", b"10")]
