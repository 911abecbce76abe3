"""The public routes' token bucket per client address, on a hand-driven clock."""

from __future__ import annotations

import pytest

from api.ratelimit import RateLimiter

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_call_per_interval():
    clock = Clock()
    limiter = RateLimiter(rate_per_min=30, burst=3, clock=clock)  # one token every 2 s
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(2.0)  # empty: 2 s to the next token
    clock.now += 1.0
    assert limiter.take("a") == pytest.approx(1.0)  # half a token is not one
    clock.now += 1.0
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0  # another address has its own bucket
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)][-1] > 0  # refilled to the burst, never beyond it


def test_memory_is_bounded_and_a_forgotten_client_starts_full():
    clock = Clock()
    limiter = RateLimiter(rate_per_min=1, burst=1, max_clients=2, clock=clock)
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    limiter.take("b")
    limiter.take("c")  # "a" is the least recently seen: forgotten
    assert len(limiter.buckets) == 2 and "a" not in limiter.buckets
    assert limiter.take("a") == 0.0


def test_retry_after_is_whole_seconds_at_least_one():
    assert RateLimiter.retry_after(0.2) == "1" and RateLimiter.retry_after(2.01) == "3"


def test_nonsense_settings_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(rate_per_min=0, burst=1)
