"""The repair of Faust's commit bookkeeping, on faust-streaming's real consumer class (no broker:
the consumer is built, never started)."""

import faust
import pytest
from faust.types import TP

from streams import faust_commits
from streams.faust_commits import FaustInternalsError

TOPIC = "readings"


@pytest.fixture
def consumer():
    app = faust.App("unit-faust-commits", broker="kafka://127.0.0.1:9", store="memory://", web_enabled=False)
    consumer = app.consumer
    faust_commits.check(consumer)  # the installed faust still has what the repair touches
    return consumer


def committable(consumer, partition: int) -> int | None:
    """The offset Faust would commit next for the partition (its own computation)."""
    return consumer._new_offset(TP(TOPIC, partition))


async def test_stale_and_repeated_acknowledgements_are_dropped(consumer):
    tp = TP(TOPIC, 0)
    consumer._committed_offset[tp] = 10
    consumer._acked[tp] = [5, 9, 11, 11, 12, 12, 13]  # replays below the committed offset, repeats
    consumer._acked_index[tp] = set(consumer._acked[tp])
    await faust_commits.repair(consumer, TOPIC, {0: 14})
    assert consumer._acked[tp] == [11, 12, 13]
    assert consumer._acked_index[tp] == {11, 12, 13}
    assert committable(consumer, 0) == 14


async def test_a_hole_below_the_expected_offset_is_marked_done(consumer):
    tp = TP(TOPIC, 1)
    consumer._committed_offset[tp] = 100
    consumer._acked[tp] = [140, 141]  # Faust never delivered 101..139; we applied them (expected 142)
    consumer._acked_index[tp] = {140, 141}
    assert committable(consumer, 1) is None  # stalled: Faust waits for 101 forever
    await faust_commits.repair(consumer, TOPIC, {1: 142})
    assert committable(consumer, 1) == 142


async def test_nothing_is_marked_beyond_what_was_applied(consumer):
    tp = TP(TOPIC, 2)
    consumer._committed_offset[tp] = 100
    consumer._acked[tp] = [140]
    consumer._acked_index[tp] = {140}
    await faust_commits.repair(consumer, TOPIC, {2: 120})  # we applied up to 119 only
    assert committable(consumer, 2) == 120  # commits reach what we applied, not Faust's 140


def test_a_faust_without_the_internals_fails_naming_the_fix():
    class Other:
        _acked = {}

    with pytest.raises(FaustInternalsError) as err:
        faust_commits.check(Other())
    assert "_add_gap" in str(err.value) and "faust-streaming==0.15.3" in str(err.value)
