"""The back-pressure bound between paho's network thread and the asyncio side.

paho's thread acquires a slot (count and bytes) before handing a message over; when the bound is
reached it blocks, stops reading the socket, and the broker keeps the rest (it never has more than
the session's ReceiveMaximum unacknowledged messages in flight to us). A slot is released when the
message is acknowledged (or abandoned). Memory held is at most `max_bytes` of payload plus one
message.
"""

from __future__ import annotations

import threading


class Gate:
    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self.count = 0
        self.bytes = 0
        self._cond = threading.Condition()
        self._closed = False

    def acquire(self, size: int, timeout_s: float | None = None) -> bool:
        """Block until there is room (an oversized message alone is always let in). False when
        closed or timed out."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._closed or (self.count < self.max_count
                                         and (self.bytes + size <= self.max_bytes or self.count == 0)),
                timeout_s,
            )
            if not ok or self._closed:
                return False
            self.count += 1
            self.bytes += size
            return True

    def release(self, size: int) -> None:
        with self._cond:
            self.count -= 1
            self.bytes -= size
            self._cond.notify_all()

    def close(self) -> None:
        """Refuse every further message (shutdown): a blocked acquire returns False."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
