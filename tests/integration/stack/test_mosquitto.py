"""Mosquitto of the local stack: publish and receive at QoS 1 with paho-mqtt (MQTT 5), on the platform
services' listener (bridge account publishes, gateway account subscribes)."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes


def _client(client_id: str, account: tuple[str, str]) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(*account)
    return client


def test_publish_and_receive_qos1(mqtt_access, unique):
    host, port = mqtt_access.service
    topic = f"t{unique}/v1/288/aq-288-01/telemetry"
    received: list[mqtt.MQTTMessage] = []
    got_all = threading.Event()
    subscribed = threading.Event()

    sub = _client(f"sub-{unique}", mqtt_access.gateway)
    sub.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()

    def on_message(client, userdata, msg):
        received.append(msg)
        if len(received) == 5:
            got_all.set()

    sub.on_message = on_message
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    sub.connect(host, port)
    sub.loop_start()
    assert subscribed.wait(10), "subscription was not acknowledged"

    pub = _client(f"pub-{unique}", mqtt_access.bridge)
    pub.connect(host, port)
    pub.loop_start()
    infos = [pub.publish(topic, f"reading {i}".encode(), qos=1) for i in range(5)]
    for info in infos:
        info.wait_for_publish(10)
        assert info.is_published()

    assert got_all.wait(10), f"received {len(received)} of 5"
    assert [m.payload for m in received] == [f"reading {i}".encode() for i in range(5)]
    assert all(m.qos == 1 for m in received)
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()


def test_persistent_session_keeps_messages_while_offline(mqtt_access, unique):
    """A QoS 1 message published while a persistent-session subscriber is offline is delivered later."""
    host, port = mqtt_access.service
    topic = f"t{unique}/v1/288/aq-288-02/telemetry"
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300

    first = _client(f"persist-{unique}", mqtt_access.gateway)
    first.connect(host, port, clean_start=False, properties=props)
    first.loop_start()
    done = threading.Event()
    first.on_subscribe = lambda c, u, mid, codes, p: done.set()
    first.subscribe(topic, qos=1)
    assert done.wait(10)
    first.disconnect()
    first.loop_stop()

    pub = _client(f"pub2-{unique}", mqtt_access.bridge)
    pub.connect(host, port)
    pub.loop_start()
    pub.publish(topic, b"while offline", qos=1).wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()

    got = threading.Event()
    payloads = []
    again = _client(f"persist-{unique}", mqtt_access.gateway)
    again.on_message = lambda c, u, m: (payloads.append(m.payload), got.set())
    again.connect(host, port, clean_start=False, properties=props)
    again.loop_start()
    assert got.wait(10), "the queued message was not delivered on reconnect"
    assert payloads == [b"while offline"]
    again.disconnect()
    again.loop_stop()
