"""Faust's offset-commit bookkeeping, repaired where a takeover leaves it stuck (one place for the
private attributes of faust-streaming's consumer that the worker relies on).

Faust commits, per partition, only the offsets that follow its committed one without a hole in its
list of acknowledged offsets. Two things a takeover leaves behind stop or slow those commits:

- offsets Faust never delivered (it dropped records fetched during its recovery; the worker
  fetched them itself, streams/gaps.py): a hole, and its commits stop there for good;
- replays it delivered again after it had committed them: offsets below its committed one and
  repeats in its list, and it commits one offset per interval (seen: 2 per 2 s).

`mark_done` tells it a range of offsets is acknowledged (its own `_add_gap`); `repair` drops the
stale entries and marks done what lies below both its lowest acknowledged offset and ours.
`check` verifies at start-up that the consumer still has what this module touches, so a Faust
upgrade that changed them fails loudly, naming the cause, instead of stalling commits silently.
"""

from __future__ import annotations

import logging

from faust.types import TP
from faust.types.tuples import ack_lock

from streams.exceptions import StreamsError

logger = logging.getLogger(__name__)

TESTED_VERSION = "0.15.3"  # faust-streaming; pinned in pyproject.toml
_NEEDED = ("_acked", "_acked_index", "_committed_offset", "_gap", "_add_gap")


class FaustInternalsError(StreamsError):
    """The installed faust-streaming lacks the consumer internals the commit repair uses."""

    def __init__(self, missing: list[str]) -> None:
        import faust

        super().__init__(f"streams: faust-streaming {faust.__version__}'s consumer has no {', '.join(missing)}; "
                         f"citysense's commit repair (streams/faust_commits.py) was written for faust-streaming "
                         f"{TESTED_VERSION}: install that version (pip install 'faust-streaming=={TESTED_VERSION}') "
                         f"or adapt the module")


def check(consumer) -> None:
    missing = [name for name in _NEEDED if not hasattr(consumer, name)]
    if missing:
        raise FaustInternalsError(missing)


async def mark_done(consumer, topic: str, partition: int, start: int, end: int) -> None:
    """Offsets [start, end) are done: acknowledged as far as Faust's commits are concerned."""
    if end > start:
        await consumer._add_gap(TP(topic, partition), start, end - 1)


async def repair(consumer, topic: str, expected: dict[int, int]) -> None:
    """For every partition we apply: drop stale acknowledgements, and mark done what Faust waits for
    below both its lowest acknowledged offset and the next offset we expect (all applied by us)."""
    for partition in list(expected):
        tp = TP(topic, partition)
        committed, acked = consumer._committed_offset.get(tp), consumer._acked.get(tp)
        if committed is None or not acked:
            continue
        with ack_lock:  # Faust's own lock around this bookkeeping; no await inside
            clean = sorted({offset for offset in acked if offset >= committed})
            if len(clean) != len(acked):
                acked[:] = clean
                index = consumer._acked_index.get(tp)
                if index is not None:
                    index.intersection_update(clean)
        if not clean or partition not in expected:
            continue
        lowest = clean[0]
        if lowest - committed > 1:  # Faust's stall condition (faust/transport/consumer.py _new_offset)
            end = min(lowest, expected[partition])
            if end > committed:
                logger.info("partition %d: offsets %d..%d were done but never acknowledged to Faust; "
                            "marking them so its commits move on", partition, committed, end - 1)
                await mark_done(consumer, topic, partition, committed, end)
