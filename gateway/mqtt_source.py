"""The MQTT side of the gateway: a paho-mqtt 2.x MQTT 5 client on a shared subscription with a
persistent session and manual acknowledgements.

paho's network thread hands each message to the asyncio side through the `Gate` (the bound). A
message is acknowledged to the broker only when the asyncio side says so (after Kafka acknowledged
every record made from it). Acknowledgements of messages received before a reconnection are
dropped: the broker redelivers those, and acking by a packet id from an older connection could
acknowledge a different message.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.gate import Gate
from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings
from telemetry.topics import shared_filter

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Inbound:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int
    records: list = field(default_factory=list)
    futures: list = field(default_factory=list)
    produced_at: float = 0.0

    @property
    def size(self) -> int:
        return len(self.payload)


class MqttSource:
    def __init__(self, settings: GatewaySettings, gate: Gate, deliver: Callable[[Inbound], None],
                 metrics: GatewayMetrics) -> None:
        self.settings = settings
        self.gate = gate
        self.deliver = deliver
        self.metrics = metrics
        self.generation = 0
        self.connected = False
        self.subscribed = False  # the shared subscription is confirmed by the broker (SUBACK)
        self._ever_connected = False
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if settings.mqtt_username:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            self.client.username_pw_set(settings.mqtt_username, password)
        if settings.mqtt_tls_ca:
            self.client.tls_set(ca_certs=str(settings.mqtt_tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.reconnect_delay_set(min_delay=1, max_delay=15)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port,
                                  keepalive=self.settings.keepalive_s, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect; the session (and its subscription and queue) stays on the broker."""
        self.connected = False
        self.client.disconnect()
        self.client.loop_stop()

    def ack(self, item: Inbound) -> bool:
        if item.qos == 0 or item.generation != self.generation or not self.connected:
            return False
        self.client.ack(item.mid, item.qos)
        return True

    # paho's thread from here on
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("MQTT broker %s:%d refused the gateway: %s", self.settings.mqtt_host,
                         self.settings.mqtt_port, reason_code)
            return
        self.generation += 1
        self.connected = True
        self.metrics.mqtt_connected.set(1)
        if self._ever_connected:
            self.metrics.reconnects.labels("mqtt").inc()
        self._ever_connected = True
        logger.info("connected to MQTT %s:%d as %s (session present: %s)", self.settings.mqtt_host,
                    self.settings.mqtt_port, self.settings.client_id, flags.session_present)
        client.subscribe(shared_filter(self.settings.share_group, self.settings.topic_root), qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self.subscribed = not any(rc.is_failure for rc in reason_codes)
        for rc in reason_codes:
            if rc.is_failure:
                logger.error("MQTT subscription refused: %s (does the gateway's account may subscribe "
                             "to %s?)", rc, shared_filter(self.settings.share_group, self.settings.topic_root))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected:
            logger.warning("disconnected from MQTT %s:%d (%s); reconnecting", self.settings.mqtt_host,
                           self.settings.mqtt_port, reason_code)
        self.connected = False
        self.metrics.mqtt_connected.set(0)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        received_at = datetime.now(timezone.utc)
        payload = msg.payload
        if not self.gate.acquire(len(payload)):
            return  # shutting down: not acknowledged, the broker redelivers it to the next session
        self.metrics.received.inc()
        self.deliver(Inbound(msg.mid, msg.qos, msg.topic, payload, received_at, self.generation))
