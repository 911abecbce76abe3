"""The in-flight bound: counted, never refusing a message the broker sent (it would stay unsent)."""

from gateway.gate import Gate


def test_counts_in_and_out_with_the_peak():
    gate = Gate(max_count=4, max_bytes=10**9)
    for _ in range(4):
        assert gate.enter(10)
    assert gate.full and gate.count == 4 and gate.bytes == 40 and gate.over_bound == 0
    gate.leave(10)
    gate.leave(10)
    assert not gate.full and gate.count == 2 and gate.peak_count == 4


def test_a_message_beyond_the_bound_is_taken_and_counted():
    gate = Gate(max_count=1000, max_bytes=100)
    gate.enter(60)
    gate.enter(60)
    assert gate.full and gate.over_bound == 0
    assert gate.enter(1) and gate.over_bound == 1 and gate.count == 3


def test_closed_gate_refuses():
    gate = Gate(10, 100)
    gate.close()
    assert gate.enter(1) is False and gate.count == 0
