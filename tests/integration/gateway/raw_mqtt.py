"""Hand-made MQTT 3.1.1 packets over a plain socket, for what a client library refuses to send
(wildcards or nothing in a PUBLISH topic): the broker must close such a connection."""

from __future__ import annotations

import socket
import struct


def _string(s: bytes) -> bytes:
    return struct.pack("!H", len(s)) + s


def _packet(header: int, body: bytes) -> bytes:
    n, length = len(body), b""
    while True:
        byte, n = n % 128, n // 128
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            return bytes([header]) + length + body


def connect_packet(client_id: str, username: str, password: str) -> bytes:
    flags = 0x80 | 0x40 | 0x02  # username, password, clean session
    body = _string(b"MQTT") + bytes([4, flags]) + struct.pack("!H", 30) + _string(client_id.encode())
    return _packet(0x10, body + _string(username.encode()) + _string(password.encode()))


def publish_packet(topic: bytes, payload: bytes) -> bytes:
    return _packet(0x30, _string(topic) + payload)  # QoS 0


def broker_closes_after_publish(endpoint: tuple[str, int], account: tuple[str, str], topic: bytes,
                                timeout_s: float = 5.0) -> bool:
    """Connect (expects CONNACK accepted), send one PUBLISH; True if the broker then closes the connection."""
    with socket.create_connection(endpoint, timeout=timeout_s) as sock:
        sock.sendall(connect_packet("", *account))
        connack = sock.recv(4)
        assert connack[:1] == b"\x20" and connack[3:4] == b"\x00", f"not accepted: {connack!r}"
        sock.sendall(publish_packet(topic, b'{"ts": "2026-01-01T00:00:00Z", "metrics": {}}'))
        try:
            return sock.recv(16) == b""  # orderly close by the broker
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
