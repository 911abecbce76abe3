"""Offset continuity: replays skipped, holes sought back to (once per fetch), nothing admitted past a hole."""

from streams.continuity import Continuity


def rec(partition: int, offset: int):
    return (partition, offset, b"288", b"{}")


def test_records_at_the_cursor_are_admitted_and_replays_skipped():
    c = Continuity(expected={0: 10})
    kept, seeks, replays = c.admit([rec(0, 8), rec(0, 9), rec(0, 10), rec(0, 11)])
    assert [r[1] for r in kept] == [10, 11] and seeks == [] and replays == 2
    assert c.expected == {0: 10}  # moved only once applied
    c.applied(kept)
    assert c.expected == {0: 12}


def test_a_hole_drops_the_rest_of_the_partition_and_seeks_back_once():
    c = Continuity(expected={0: 158, 1: 5}, reseek_s=5)
    kept, seeks, _ = c.admit([rec(0, 300), rec(1, 5), rec(0, 301), rec(1, 6)], now=100.0)
    assert [(r[0], r[1]) for r in kept] == [(1, 5), (1, 6)] and seeks == [(0, 158)]
    kept, seeks, _ = c.admit([rec(0, 302)], now=101.0)  # a fetch in flight: dropped, no new seek
    assert kept == [] and seeks == []
    _, seeks, _ = c.admit([rec(0, 303)], now=106.0)  # still not there after reseek_s: seek again
    assert seeks == [(0, 158)]
    kept, seeks, _ = c.admit([rec(0, 158), rec(0, 159)], now=107.0)
    assert [r[1] for r in kept] == [158, 159] and seeks == [] and 0 not in c.seeking


def test_a_hole_inside_a_batch_keeps_what_came_before_it():
    c = Continuity(expected={0: 1})
    kept, seeks, _ = c.admit([rec(0, 1), rec(0, 2), rec(0, 4), rec(0, 5)])
    assert [r[1] for r in kept] == [1, 2] and seeks == [(0, 3)]


def test_partitions_without_a_cursor_are_not_admitted():
    c = Continuity()
    kept, seeks, replays = c.admit([rec(3, 0)])
    assert (kept, seeks, replays) == ([], [], 0)
