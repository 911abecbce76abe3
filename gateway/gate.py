"""The bound on what the gateway holds between the MQTT socket and Kafka.

The broker never has more than the session's Receive Maximum unacknowledged QoS 1 messages in
flight to the gateway (MQTT 5, §3.3.4), and the gateway acknowledges a message only after Kafka
acknowledged its records: so while Kafka is down the broker stops sending by itself after
`receive_maximum` messages, and the gateway keeps reading its socket — PINGRESPs and DISCONNECTs
included, so the connection stays up however long the outage (it used to stop reading at the
bound, miss the broker's PINGRESP and be dropped by paho after 1.5 keep-alives). The settings
refuse a Receive Maximum above `max_in_flight`. Memory held: at most `receive_maximum` messages,
`max_in_flight_bytes` of payload when the broker limits message sizes to `max_payload_bytes`.

A message beyond the bound (a broker that ignores Receive Maximum) is still taken — refusing it
without an acknowledgement would leave it unsent until the next session — and counted.
"""

from __future__ import annotations


class Gate:
    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self.count = 0
        self.bytes = 0
        self.peak_count = 0
        self.over_bound = 0  # messages taken beyond the bound (the broker sent more than Receive Maximum)
        self.closed = False

    @property
    def full(self) -> bool:
        return self.count >= self.max_count or self.bytes >= self.max_bytes

    def enter(self, size: int) -> bool:
        """Count a received message in; False when closed (shutting down: do not take it)."""
        if self.closed:
            return False
        if self.full:
            self.over_bound += 1
        self.count += 1
        self.bytes += size
        self.peak_count = max(self.peak_count, self.count)
        return True

    def leave(self, size: int) -> None:
        self.count -= 1
        self.bytes -= size

    def close(self) -> None:
        self.closed = True
