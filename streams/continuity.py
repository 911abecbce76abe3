"""Offset continuity per partition of the readings topic: which records of a batch to apply, and
where to seek the consumer back to when Faust delivered past a hole.

The worker knows, per partition, the next offset it must apply (the applied mark + 1 after a
takeover, then each applied batch's last offset + 1). A record below it is a replay (skipped); a
record at it is applied and the cursor moves on; a record beyond it means Faust skipped records
(seen on takeovers: it resumes delivery before it seeks to the committed offsets): the rest of that
partition's batch is dropped — Faust acknowledges the dropped events, the worker applied nothing of
them — and the consumer is sought back to the expected offset with Faust's public `seek`. Until the
expected offset arrives, later records of that partition are dropped without a new seek (a fetch
already in flight), unless `reseek_s` passed. Never a fetch of records beside Faust, never a seek
forward — except past records Kafka no longer holds (retention), which the worker logs as lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

Record = tuple[int, int, bytes | None, bytes]  # partition, offset, key, value


@dataclass
class Continuity:
    reseek_s: float = 5.0
    expected: dict[int, int] = field(default_factory=dict)  # partition -> next offset to apply
    seeking: dict[int, float] = field(default_factory=dict)  # partition -> when we sought it back

    def admit(self, batch: list[Record], now: float | None = None) -> tuple[list[Record], list[tuple[int, int]], int]:
        """(records to apply, in batch order; seeks to make (partition, offset); replays skipped).
        Partitions with no expected offset yet are not admitted (load their state first)."""
        now = time.monotonic() if now is None else now
        cursor = dict(self.expected)
        kept: list[Record] = []
        seeks: list[tuple[int, int]] = []
        blocked: set[int] = set()
        replays = 0
        for record in batch:
            partition, offset = record[0], record[1]
            if partition in blocked or partition not in cursor:
                continue
            want = cursor[partition]
            if offset < want:
                replays += 1
            elif offset == want:
                kept.append(record)
                cursor[partition] = offset + 1
                self.seeking.pop(partition, None)
            else:
                blocked.add(partition)
                since = self.seeking.get(partition)
                if since is None or now - since >= self.reseek_s:
                    seeks.append((partition, want))
                    self.seeking[partition] = now
        return kept, seeks, replays

    def applied(self, records: list[Record]) -> None:
        """After a batch is applied and its state written: move the cursors past its records."""
        for partition, offset, _, _ in records:
            if offset + 1 > self.expected.get(partition, -1):
                self.expected[partition] = offset + 1

    def forget(self, partition: int) -> None:
        self.expected.pop(partition, None)
        self.seeking.pop(partition, None)
