"""The zombie guard: whether a worker still owns the partitions of a batch before it writes their
states and applied marks.

A worker cut off from Kafka (a network partition, a long pause) keeps the batch it was writing; the
group gives its partitions to another worker after the session timeout, and that one loads their
state from the state topic and goes on. When the link heals, the cut-off worker's writes would land
after the new owner's: stale states that a later takeover would load. Kafka learns nothing from
them and cannot refuse them (the stage writes without transactions), so the worker checks itself:

- a partition revoked while the batch ran (Faust's `on_partitions_revoked`, counted per partition):
  the batch writes nothing more for it;
- a batch whose writes stalled longer than `lease_s` may have outlived the group's session: the
  worker waits `confirm_s` (more than a heartbeat interval: the consumer's next heartbeat learns
  whether it was evicted, and Faust then revokes), and writes only if it was not — no revocation,
  no rebalance under way, the partitions still assigned.

What the guard cannot stop: records already handed to the producer when the link broke (a few
milliseconds of each batch) are delivered when it heals. docs/scaling.md says what fences that too
(transactions, one producer per input partition).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Ownership:
    lease_s: float
    confirm_s: float
    assigned: Callable[[], set[int]]  # the source's partitions the consumer holds now
    rebalancing: Callable[[], bool]
    epochs: dict[int, int] = field(default_factory=dict)  # partition -> revocations seen

    def revoked(self, partition: int) -> None:
        self.epochs[partition] = self.epochs.get(partition, 0) + 1

    def snapshot(self, partitions: set[int]) -> dict[int, int]:
        return {p: self.epochs.get(p, 0) for p in partitions}

    async def lost(self, snapshot: dict[int, int], started: float) -> set[int]:
        """The batch's partitions this worker may no longer own (empty: write on)."""
        if time.monotonic() - started > self.lease_s:
            await asyncio.sleep(self.confirm_s)
            if self.rebalancing():
                return set(snapshot)
            held = self.assigned()
            gone = {p for p in snapshot if p not in held}
        else:
            gone = set()
        return gone | {p for p, epoch in snapshot.items() if self.epochs.get(p, 0) != epoch}
