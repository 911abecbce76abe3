"""The MQTT side of the gateway: a paho-mqtt 2.x MQTT 5 client on a shared subscription with a
persistent session and manual acknowledgements, run inside the asyncio loop through paho's socket
callbacks (no network thread: no GIL hand-offs between threads per message).

A message is acknowledged to the broker only when the gateway says so (after Kafka acknowledged
every record made from it). Acknowledgements of messages received before a reconnection are
dropped: the broker redelivers those, and acking by a packet id of an older connection could
acknowledge a different message.
"""

from __future__ import annotations

import asyncio
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
from telemetry.topics import shared_filter, uplink_filter

logger = logging.getLogger(__name__)

PACKETS_PER_READ = 100


@dataclass(slots=True)
class Inbound:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int
    dup: bool = False  # MQTT DUP flag: the broker delivered this message before (to a gateway that did not ack it)
    records: list = field(default_factory=list)
    futures: list = field(default_factory=list)
    produced_at: float = 0.0

    @property
    def size(self) -> int:
        return len(self.payload)


class MqttSource:
    def __init__(self, settings: GatewaySettings, gate: Gate, deliver: Callable[[Inbound], None],
                 metrics: GatewayMetrics, spawn: Callable | None = None) -> None:
        self.settings = settings
        self.gate = gate
        self.deliver = deliver
        self.metrics = metrics
        self.spawn = spawn  # starts a supervised task (runtime/supervise.py); None: a plain task
        self.generation = 0
        self.connected = False
        self.subscribed = False  # the shared subscription is confirmed by the broker (SUBACK)
        self._ever_connected = False
        self._stopping = False
        self._sock = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._misc: asyncio.Task | None = None
        self._reconnect: asyncio.Task | None = None
        c = self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5, manual_ack=True,
        )
        if settings.mqtt_username:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            c.username_pw_set(settings.mqtt_username, password)
        if settings.mqtt_tls_ca:
            cert, key = settings.mqtt_tls_certfile, settings.mqtt_tls_keyfile
            c.tls_set(ca_certs=str(settings.mqtt_tls_ca), certfile=str(cert) if cert else None,
                      keyfile=str(key) if key else None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_socket_open = self._on_socket_open
        c.on_socket_close = self._on_socket_close
        c.on_socket_register_write = lambda client, userdata, sock: self._loop.add_writer(sock, client.loop_write)
        c.on_socket_unregister_write = lambda client, userdata, sock: self._loop.remove_writer(sock)

    def subscription(self) -> str:
        """A plain subscription for one gateway (Mosquitto 2.0 restores it from persistence after a
        broker restart); a shared one when several gateways share the work (Mosquitto 2.0.11 does
        NOT restore shared subscriptions: messages published between a broker restart and the
        gateways' reconnect are lost; seen by the fault suite, see docs/security.md)."""
        if self.settings.share_group:
            return shared_filter(self.settings.share_group, self.settings.topic_root)
        return uplink_filter(self.settings.topic_root)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port,
                                  keepalive=self.settings.keepalive_s, clean_start=False, properties=props)
        self._reconnect = self._loop.create_task(self._connect_loop())

    async def _connect_loop(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                self.client.reconnect()
                return
            except OSError as exc:
                logger.error("MQTT broker %s:%d unreachable (%s); retrying in %.1f s", self.settings.mqtt_host,
                             self.settings.mqtt_port, exc, backoff)
            except Exception:  # never stop reconnecting: a gateway that gave up would stall silently
                logger.exception("connecting to MQTT %s:%d failed unexpectedly; retrying in %.1f s",
                                  self.settings.mqtt_host, self.settings.mqtt_port, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 15.0)

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.client.loop_misc()  # keepalive pings, timeouts

    def stop(self) -> None:
        """Disconnect; the session (its subscription and queue) stays on the broker."""
        self._stopping = True
        self.connected = False
        if self._reconnect:
            self._reconnect.cancel()
        self.client.disconnect()
        if self._sock is not None:
            self.client.loop_write()

    def ack(self, item: Inbound) -> bool:
        if item.qos == 0 or item.generation != self.generation or not self.connected:
            return False
        self.client.ack(item.mid, item.qos)
        return True

    # -- socket callbacks (paho in the asyncio loop) ----------------------------------------
    def _read(self) -> None:
        self.client.loop_read(PACKETS_PER_READ)

    def _on_socket_open(self, client, userdata, sock) -> None:
        self._sock = sock
        self._loop.add_reader(sock, self._read)  # always: Receive Maximum bounds what the broker sends
        misc = self._misc_loop()
        self._misc = self.spawn(misc, "mqtt-keepalive") if self.spawn else self._loop.create_task(misc)

    def _on_socket_close(self, client, userdata, sock) -> None:
        self._loop.remove_reader(sock)
        self._loop.remove_writer(sock)
        self._sock = None
        if self._misc:
            self._misc.cancel()

    # -- MQTT callbacks ----------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("MQTT broker %s:%d refused the gateway %s: %s (check CITYSENSE_GATEWAY_MQTT_USERNAME "
                         "and _PASSWORD)", self.settings.mqtt_host, self.settings.mqtt_port, self.settings.client_id,
                         reason_code)
            return
        self.generation += 1
        self.connected = True
        self.metrics.mqtt_connected.set(1)
        if self._ever_connected:
            self.metrics.reconnects.labels("mqtt").inc()
        self._ever_connected = True
        logger.info("connected to MQTT %s:%d as %s (session present: %s)", self.settings.mqtt_host,
                    self.settings.mqtt_port, self.settings.client_id, flags.session_present)
        client.subscribe(self.subscription(), qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self.subscribed = not any(rc.is_failure for rc in reason_codes)
        if not self.subscribed:
            logger.error("MQTT subscription to %s refused (%s): may the gateway's account subscribe to it?",
                         self.subscription(), reason_codes)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected
        self.connected = False
        self.subscribed = False
        self.metrics.mqtt_connected.set(0)
        if self._stopping:
            return
        if was:
            logger.warning("disconnected from MQTT %s:%d (%s); reconnecting", self.settings.mqtt_host,
                           self.settings.mqtt_port, reason_code)
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = self._loop.create_task(self._reconnect_later())

    async def _reconnect_later(self) -> None:
        await asyncio.sleep(0.5)
        await self._connect_loop()

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        payload = msg.payload
        if not self.gate.enter(len(payload)):
            return  # shutting down: not acknowledged, the broker redelivers it to the next session
        self.metrics.tally["received"] += 1
        self.deliver(Inbound(msg.mid, msg.qos, msg.topic, payload, datetime.now(timezone.utc), self.generation,
                             bool(msg.dup)))
