"""The back-pressure bound: pauses reading at the bound, resumes below half of it."""

from gateway.gate import Gate


def test_pauses_at_count_bound_and_resumes_below_half():
    events = []
    gate = Gate(max_count=4, max_bytes=10**9)
    gate.on_pause, gate.on_resume = (lambda: events.append("pause")), (lambda: events.append("resume"))
    for _ in range(4):
        assert gate.enter(10)
    assert events == ["pause"] and gate.paused
    gate.leave(10)
    assert events == ["pause"]  # 3 > 4 // 2: still paused
    gate.leave(10)
    assert events == ["pause", "resume"] and not gate.paused and gate.count == 2


def test_pauses_at_byte_bound():
    gate = Gate(max_count=1000, max_bytes=100)
    paused = []
    gate.on_pause = lambda: paused.append(True)
    gate.enter(60)
    assert not paused
    gate.enter(60)
    assert paused and gate.bytes == 120


def test_closed_gate_refuses():
    gate = Gate(10, 100)
    gate.close()
    assert gate.enter(1) is False and gate.count == 0
