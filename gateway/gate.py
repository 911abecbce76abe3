"""The back-pressure bound between the MQTT socket and Kafka.

The gateway holds at most `max_count` messages and `max_bytes` of payload between receiving a
message and acknowledging it. At the bound it stops reading the MQTT socket (paho runs inside the
asyncio loop, so not reading is all it takes): the broker keeps the rest, and never has more than
the session's ReceiveMaximum unacknowledged messages in flight to us anyway. Reading resumes
below half the bound. Memory held is at most `max_bytes` of payload plus one socket read.
"""

from __future__ import annotations

from collections.abc import Callable


class Gate:
    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self.count = 0
        self.bytes = 0
        self.closed = False
        self.paused = False
        self.on_pause: Callable[[], None] = lambda: None
        self.on_resume: Callable[[], None] = lambda: None

    @property
    def full(self) -> bool:
        return self.count >= self.max_count or self.bytes >= self.max_bytes

    def enter(self, size: int) -> bool:
        """Count a received message in; False when closed (shutting down: do not take it)."""
        if self.closed:
            return False
        self.count += 1
        self.bytes += size
        if self.full and not self.paused:
            self.paused = True
            self.on_pause()
        return True

    def leave(self, size: int) -> None:
        self.count -= 1
        self.bytes -= size
        if self.paused and not self.closed and self.count <= self.max_count // 2 and self.bytes <= self.max_bytes // 2:
            self.paused = False
            self.on_resume()

    def close(self) -> None:
        self.closed = True
