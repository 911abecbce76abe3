"""A steady device load for the fault suite: each device on its own MQTT connection with its own
credentials, readings with per-device sequence numbers, event time running 60x faster than the
wall clock (so minute windows close during a one-minute test). Records which messages the broker
acknowledged (PUBACK): those are the ones the platform must store, exactly once."""

from __future__ import annotations

import ssl
import threading
import time
from datetime import datetime, timedelta, timezone

import orjson
import paho.mqtt.client as mqtt

from telemetry.topics import uplink_topic

SPEEDUP = 60  # event seconds per wall second


def metrics(device_index: int, seq: int) -> dict:
    return {"pm2_5": round(20 + (seq * 7 + device_index * 3) % 50 + 0.25, 2),
            "pm10": round(40 + (seq * 5 + device_index) % 60 + 0.5, 2), "no2": float(10 + seq % 30)}


class DeviceLoad:
    def __init__(self, access, devices: list[tuple[str, int]], root: str, tick_s: float = 0.1) -> None:
        self.access, self.devices, self.root, self.tick_s = access, devices, root, tick_s
        self.t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)
        self.acked: set[tuple[str, int]] = set()
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.clients: dict[str, mqtt.Client] = {}
        self._pending: dict[str, dict[int, int]] = {}  # device -> mid -> seq
        self._early: dict[str, set[int]] = {}  # PUBACKs that came before their mid was registered
        self.disconnects: dict[str, int] = {}  # unexpected disconnections per device
        self.refused: dict[str, int] = {}  # CONNACKs refusing a device (a revoked account)
        self.removed: set[str] = set()

    def _client(self, device: str) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv311)
        c.username_pw_set(device, self.access.devices[device])
        c.max_inflight_messages_set(200)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(0.2, 2)
        if self.access.device_tls:
            c.tls_set(ca_certs=str(self.access.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        pending = self._pending.setdefault(device, {})
        early = self._early.setdefault(device, set())

        def on_publish(client, userdata, mid, reason_code, properties):
            # paho holds its own lock here; ours is never held while calling into paho (no deadlock)
            with self._lock:
                seq = pending.pop(mid, None)
                if seq is None:
                    early.add(mid)
                else:
                    self.acked.add((device, seq))

        def on_connect(client, userdata, flags, reason_code, properties):
            if reason_code.is_failure:
                self.refused[device] = self.refused.get(device, 0) + 1
            else:
                connected.set()

        def on_disconnect(client, userdata, flags, reason_code, properties):
            if not self._stop.is_set():
                self.disconnects[device] = self.disconnects.get(device, 0) + 1

        c.on_publish = on_publish
        connected = threading.Event()
        c.on_connect = on_connect
        c.on_disconnect = on_disconnect
        c.connect(*self.access.device)
        c.loop_start()
        assert connected.wait(10), f"device {device} could not connect"
        return c

    def start(self) -> None:
        self.clients = {d: self._client(d) for d, _ in self.devices}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def add(self, device: str, district: int) -> None:
        """A device joins the load (its account must exist: `access.devices` holds its password)."""
        client = self._client(device)
        with self._lock:
            self.clients[device] = client
            self.devices = [*self.devices, (device, district)]

    def remove(self, device: str) -> None:
        """The device stops publishing (its account is being revoked); what the broker acknowledged
        before stays in `acked`, what it never acknowledged is not counted as sent (`unacknowledged`)."""
        with self._lock:
            self.devices = [(d, n) for d, n in self.devices if d != device]
            self.removed.add(device)

    @property
    def unacknowledged_of_removed(self) -> int:
        with self._lock:
            return sum(len(self._pending[d]) for d in self.removed)

    def _run(self) -> None:
        seq = 0
        started = time.monotonic()
        while not self._stop.is_set():
            ts = self.t0 + timedelta(seconds=seq * self.tick_s * SPEEDUP)
            with self._lock:
                devices = list(self.devices)
            for i, (device, district) in enumerate(devices):
                payload = orjson.dumps({"ts": ts.isoformat(), "seq": seq, "metrics": metrics(i, seq)})
                info = self.clients[device].publish(uplink_topic(district, device, self.root), payload, qos=1)
                with self._lock:
                    if info.mid in self._early[device]:
                        self._early[device].discard(info.mid)
                        self.acked.add((device, seq))
                    else:
                        self._pending[device][info.mid] = seq
                    self.sent += 1
            seq += 1
            time.sleep(max(0.0, started + seq * self.tick_s - time.monotonic()))

    def stop(self, timeout_s: float = 120) -> None:
        """Stop publishing and wait until the broker acknowledged everything sent (paho re-sends
        after a reconnect)."""
        self._stop.set()
        self._thread.join()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(self.acked) < self.sent - self.unacknowledged_of_removed:
            time.sleep(0.2)
        for device, c in self.clients.items():
            if device in self.removed:
                c.loop_stop()  # its queued messages were never acknowledged: dropped with the client
                continue
            c.disconnect()
            c.loop_stop()

    @property
    def acked_count(self) -> int:
        with self._lock:
            return len(self.acked)
