"""Security events for the cyber-security monitoring centre: rejected messages that matter to it
(unknown devices, district spoofing, malformed floods, oversized payloads …), counted per client and
published as one summary per client per interval — never one event per bad message.

The "client" is the device id claimed by the topic (MQTT does not tell a subscriber who published);
an unparseable topic counts under its first 64 characters. Memory is bounded: past `max_clients`
distinct clients in one interval, the rest are counted together under "(others)".
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import orjson

from telemetry import SCHEMA_VERSION
from telemetry.rejections import SECURITY_REASONS, Reason

OTHERS = "(others)"
FLOOD_PER_INTERVAL = 100  # more rejects than this from one client in one interval is flagged a flood


def claimed_client(mqtt_topic: str) -> str:
    parts = mqtt_topic.split("/")
    if len(parts) == 5 and parts[3]:
        return parts[3][:64]
    return mqtt_topic[:64] or "(empty topic)"


class SecurityMonitor:
    def __init__(self, gateway_id: str, max_clients: int = 10_000) -> None:
        self.gateway_id = gateway_id
        self.max_clients = max_clients
        self._counts: dict[str, Counter] = {}
        self._first_topic: dict[str, str] = {}
        self._since = datetime.now(timezone.utc)

    def record(self, reason: Reason, mqtt_topic: str) -> None:
        if reason not in SECURITY_REASONS:
            return
        client = claimed_client(mqtt_topic)
        if client not in self._counts and len(self._counts) >= self.max_clients:
            client = OTHERS
        if client not in self._counts:
            self._counts[client] = Counter()
            self._first_topic[client] = mqtt_topic[:256]
        self._counts[client][reason.value] += 1

    def drain(self) -> list[tuple[bytes, bytes]]:
        """(key, value) of one summary event per client seen since the last drain."""
        now = datetime.now(timezone.utc)
        events = []
        for client, counts in self._counts.items():
            total = sum(counts.values())
            events.append((client.encode(), orjson.dumps({
                "v": SCHEMA_VERSION,
                "type": "rejected_traffic",
                "gateway": self.gateway_id,
                "client": client,
                "window_start": self._since,
                "window_end": now,
                "counts": dict(counts),
                "total": total,
                "flood": total > FLOOD_PER_INTERVAL,
                "first_topic": self._first_topic[client],
            }, option=orjson.OPT_UTC_Z)))
        self._counts.clear()
        self._first_topic.clear()
        self._since = now
        return events

    def __len__(self) -> int:
        return len(self._counts)
