"""Offset continuity per partition: which offsets a batch skipped."""

from streams.gaps import advance, find_gaps


def rec(partition: int, offset: int):
    return (partition, offset, b"k", b"v")


def test_a_batch_starting_beyond_the_expected_offset_has_a_gap():
    assert find_gaps([rec(0, 300), rec(0, 301)], {0: 158}) == [(0, 158, 300)]


def test_holes_inside_a_batch_and_per_partition():
    batch = [rec(1, 5), rec(0, 10), rec(1, 9), rec(0, 11), rec(0, 14)]
    assert find_gaps(batch, {0: 10, 1: 5}) == [(0, 12, 14), (1, 6, 9)]


def test_replays_below_the_expected_offset_are_no_gap():
    assert find_gaps([rec(0, 3), rec(0, 4), rec(0, 5), rec(0, 6)], {0: 5}) == []


def test_an_unknown_partition_sets_its_start_from_the_batch():
    batch = [rec(2, 40), rec(2, 41)]
    assert find_gaps(batch, {}) == []
    expected: dict[int, int] = {}
    advance(batch, expected)
    assert expected == {2: 42}
    assert find_gaps([rec(2, 44)], expected) == [(2, 42, 44)]


def test_advance_never_moves_back():
    expected = {0: 100}
    advance([rec(0, 50)], expected)
    assert expected == {0: 100}
