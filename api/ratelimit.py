"""A token bucket per client address for the public (keyless) routes: `rate_per_min` tokens a minute
up to `burst`; a call with no token left is refused with 429 and the seconds until the next one.
Bounded: at most `max_clients` addresses are remembered (the least recently seen are forgotten, which
only ever gives a forgotten client a full bucket)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    def __init__(self, rate_per_min: float, burst: int, max_clients: int = 10_000, clock=time.monotonic) -> None:
        if rate_per_min <= 0 or burst < 1:
            raise ValueError("rate_per_min must be positive and burst at least 1")
        self.rate_s, self.burst, self.max_clients, self.clock = rate_per_min / 60.0, burst, max_clients, clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def take(self, client: str) -> float:
        """0 when the call may go ahead (a token taken); else the seconds until a token is there."""
        now = self.clock()
        tokens, at = self.buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_s)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate_s
        self.buckets[client] = (tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
