"""Publish over MQTT with paho at QoS 1 and count what the broker acknowledged."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt


class Publisher:
    def __init__(self, host: str, port: int, client_id: str, username: str | None = None,
                 password: str | None = None, max_inflight: int = 1000) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if username:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.published = 0
        self.acked = 0
        self.errors = 0
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self._connected.set() if not rc.is_failure else None
        self.client.on_publish = self._on_publish
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(15):
            raise ConnectionError(f"the simulator could not connect to MQTT {host}:{port}: is the broker up "
                                  "(`citysense stack status`, log .stack/logs/mosquitto.log)?")

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
        self.client.loop_stop()
