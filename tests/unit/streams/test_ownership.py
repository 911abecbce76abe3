"""The zombie guard (streams/ownership.py): which partitions of a batch a worker may no longer own."""

from __future__ import annotations

import time

import pytest

from streams.ownership import Ownership

pytestmark = pytest.mark.unit


def guard(held: set[int], rebalancing: bool = False) -> Ownership:
    return Ownership(lease_s=5.0, confirm_s=0.01, assigned=lambda: held, rebalancing=lambda: rebalancing)


async def test_a_quick_batch_of_partitions_never_revoked_writes_on():
    g = guard(held=set())  # a quick batch does not even ask the consumer
    assert await g.lost(g.snapshot({1, 3}), time.monotonic()) == set()


async def test_a_partition_revoked_during_the_batch_is_lost_however_quick():
    g = guard(held={1, 3})
    snapshot = g.snapshot({1, 3})
    g.revoked(3)
    assert await g.lost(snapshot, time.monotonic()) == {3}
    assert await g.lost(g.snapshot({1, 3}), time.monotonic()) == set()  # a new batch after the revocation


async def test_a_stalled_batch_asks_whether_the_partitions_are_still_assigned():
    g = guard(held={1})
    long_ago = time.monotonic() - 6.0  # longer than the lease
    assert await g.lost(g.snapshot({1, 3}), long_ago) == {3}
    assert await g.lost(g.snapshot({1}), long_ago) == set()


async def test_a_stalled_batch_during_a_rebalance_loses_all_its_partitions():
    g = guard(held={1, 3}, rebalancing=True)
    assert await g.lost(g.snapshot({1, 3}), time.monotonic() - 6.0) == {1, 3}
    assert await g.lost(g.snapshot({1, 3}), time.monotonic()) == set()  # not stalled: the rebalance revokes first
