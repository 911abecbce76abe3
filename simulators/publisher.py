"""Publish over MQTT with paho at QoS 1 and count what the broker acknowledged: one connection per
device with its own credentials (the broker lets a device publish only to its own topic), and the
bridge account for traffic that names no provisioned device (unknown devices, malformed topics:
what an integration forwarding for others would send; the gateway rejects it with a reason). The
device connections share one network thread (simulators/netloop.py)."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from simulators.netloop import NetworkLoop


class Publisher:
    def __init__(self, host: str, port: int, client_id: str, username: str | None = None,
                 password: str | None = None, max_inflight: int = 1000, ca_file: str | None = None,
                 loop: NetworkLoop | None = None) -> None:
        self.loop = loop
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if username:
            self.client.username_pw_set(username, password)
        if ca_file:
            self.client.tls_set(ca_certs=ca_file)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.published = 0
        self.acked = 0
        self.errors = 0
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self._connected.set() if not rc.is_failure else None
        self.client.on_publish = self._on_publish
        if loop is not None:
            loop.attach(self.client)
        self.client.connect(host, port, keepalive=30)
        if loop is None:
            self.client.loop_start()
        if not self._connected.wait(15):
            raise ConnectionError(f"the simulator could not connect to MQTT {host}:{port} as {username!r}: is the "
                                  "broker up and the account provisioned (`citysense stack status`, "
                                  "`citysense devices list`, log .stack/logs/mosquitto.log)?")

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.errors += 1
        else:
            self.published += 1

    def wait_acked(self, timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.acked >= self.published:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.disconnect()
        if self.loop is None:
            self.client.loop_stop()


class PublisherPool:
    """Publishes each message over the connection of the device its topic names (own credentials on
    the device listener), or over the bridge account when that device has no credentials."""

    def __init__(self, access, client_id: str) -> None:
        self.access, self.client_id = access, client_id
        self.by_device: dict[str, Publisher] = {}
        self.bridge: Publisher | None = None
        self.via_bridge = 0
        self.loop = NetworkLoop()

    def _for(self, topic: str) -> Publisher:
        parts = topic.split("/")
        device = parts[3] if len(parts) == 5 else None
        if device in self.access.devices:
            if device not in self.by_device:
                self.by_device[device] = Publisher(*self.access.device, client_id=device, username=device,
                                                   password=self.access.devices[device], max_inflight=100,
                                                   loop=self.loop)
            return self.by_device[device]
        if self.bridge is None:
            self.bridge = Publisher(*self.access.service, client_id=self.client_id, username=self.access.bridge[0],
                                    password=self.access.bridge[1])
        self.via_bridge += 1
        return self.bridge

    def publish(self, topic: str, payload: bytes) -> None:
        self._for(topic).publish(topic, payload)

    def _all(self) -> list[Publisher]:
        return [*self.by_device.values(), *([self.bridge] if self.bridge else [])]

    @property
    def published(self) -> int:
        return sum(p.published for p in self._all())

    @property
    def acked(self) -> int:
        return sum(p.acked for p in self._all())

    @property
    def errors(self) -> int:
        return sum(p.errors for p in self._all())

    def wait_acked(self, timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        return all(p.wait_acked(max(0.1, deadline - time.monotonic())) for p in self._all())

    def close(self) -> None:
        for p in self._all():
            p.close()
        time.sleep(0.2)  # the loop writes the DISCONNECTs
        self.loop.close()
