"""The one retry helper of the services: exponential backoff between attempts, interruptible by a
stop event (a service asked to stop while a dependency is down exits at once instead of sleeping)."""

from __future__ import annotations

import asyncio


class Backoff:
    """Delays of `first_s`, doubling up to `max_s`; `reset()` after a success."""

    def __init__(self, first_s: float = 0.5, max_s: float = 5.0) -> None:
        self.first_s, self.max_s = first_s, max_s
        self.delay_s = first_s
        self.attempts = 0

    def reset(self) -> None:
        self.delay_s, self.attempts = self.first_s, 0

    def next_delay(self) -> float:
        delay = self.delay_s
        self.attempts += 1
        self.delay_s = min(self.delay_s * 2, self.max_s)
        return delay

    async def wait(self, stop: asyncio.Event | None = None) -> bool:
        """Sleep for the next delay; False when `stop` was set first (or already was)."""
        delay = self.next_delay()
        if stop is None:
            await asyncio.sleep(delay)
            return True
        if stop.is_set():
            return False
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            return True
        return False
