"""Who may connect and publish on the local broker: per-device accounts, topic ACLs, service accounts,
revocation and rotation, refused names, TLS (real Mosquitto, real connections)."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
import pytest

from stack import broker_auth


class Client:
    """A paho MQTT 5 client that records its CONNACK, disconnects, SUBACKs and received messages."""

    def __init__(self, endpoint, account=None, client_id: str = "", ca_file=None, persistent: bool = False,
                 cert=None, connect_wait_s: float = 10) -> None:
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if account:
            self.c.username_pw_set(*account)
        if ca_file:
            self.c.tls_set(ca_certs=str(ca_file), certfile=str(cert[0]) if cert else None,
                           keyfile=str(cert[1]) if cert else None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.connack = None
        self.disconnected = threading.Event()
        self.messages: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.topics: list[str] = []

        def on_connect(client, userdata, flags, rc, props):
            self.connack = rc
            for topic in self.topics:  # again after a reconnect (the broker restarts to reload accounts)
                client.subscribe(topic, qos=1)
            self.ready.set()

        self.c.on_connect = on_connect
        self.c.on_disconnect = lambda c, u, f, rc, p: self.disconnected.set()
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.c.on_subscribe = lambda c, u, mid, codes, p: self.ready.set()
        if persistent:  # the broker queues for it while it reconnects (accounts are reloaded by a restart)
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 300
            self.c.reconnect_delay_set(0.2, 1)
            self.c.connect(*endpoint, clean_start=False, properties=props)
        else:
            self.c.connect(*endpoint)
        self.c.loop_start()
        self.ready.wait(connect_wait_s)

    @property
    def accepted(self) -> bool:
        return self.connack is not None and not self.connack.is_failure

    def subscribe(self, topic: str) -> None:
        self.topics.append(topic)
        self.ready.clear()
        self.c.subscribe(topic, qos=1)
        assert self.ready.wait(10)

    def publish(self, topic: str, payload: bytes):
        info = self.c.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        return info

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def wait_messages(client: Client, n: int, timeout: float = 5.0) -> list[tuple[str, bytes]]:
    deadline = time.monotonic() + timeout
    while len(client.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # anything more that should not come
    return client.messages


@pytest.fixture
def devices(stack_settings, unique):
    ids = [f"sec-{unique}-{i}" for i in range(3)]
    passwords = broker_auth.provision_devices(stack_settings, ids)
    yield {i: (i, passwords[i]) for i in ids}
    broker_auth.revoke_devices(stack_settings, ids)


@pytest.fixture
def watcher(mqtt_access, unique):
    """The gateway's account subscribed to every uplink of this test's topic root."""
    w = Client(mqtt_access.service, mqtt_access.gateway, f"watch-{unique}", persistent=True)
    w.subscribe(f"s{unique}/v1/+/+/telemetry")
    yield w
    w.close()


def topic(unique: str, device: str) -> str:
    return f"s{unique}/v1/288/{device}/telemetry"


@pytest.mark.parametrize("listener", ["device", "service", "tls"])
def test_anonymous_and_wrong_passwords_are_refused(mqtt_access, devices, listener):
    endpoint = getattr(mqtt_access, listener)
    ca = mqtt_access.ca_file if listener == "tls" else None
    anon = Client(endpoint, None, ca_file=ca)
    assert anon.connack is not None and anon.connack.is_failure, f"anonymous accepted on the {listener} listener"
    device, _ = next(iter(devices.values()))
    wrong = Client(endpoint, (device, "not-the-password"), ca_file=ca)
    assert wrong.connack is not None and wrong.connack.is_failure
    for c in (anon, wrong):
        c.close()


def test_a_device_publishes_only_to_its_own_topic(mqtt_access, devices, watcher, unique):
    (a, a_account), (b, _) = list(devices.items())[:2]
    client = Client(mqtt_access.device, a_account)
    assert client.accepted
    client.publish(topic(unique, a), b"own")
    client.publish(topic(unique, b), b"forged")  # another device's topic: the broker drops it
    client.publish(f"s{unique}/v1/288/{a}/other", b"not telemetry")
    assert wait_messages(watcher, 1) == [(topic(unique, a), b"own")]
    client.close()


def test_a_device_reads_nothing_and_cannot_use_the_service_listener(mqtt_access, devices, unique):
    (a, a_account), (b, b_account) = list(devices.items())[:2]
    spy = Client(mqtt_access.device, a_account)
    spy.subscribe(f"s{unique}/v1/+/+/telemetry")
    other = Client(mqtt_access.device, b_account)
    other.publish(topic(unique, b), b"private")
    assert wait_messages(spy, 1, 2.0) == [], "a device received another device's telemetry"
    on_service = Client(mqtt_access.service, a_account)
    assert on_service.connack.is_failure, "a device account was accepted on the services' listener"
    for c in (spy, other, on_service):
        c.close()


def test_the_gateway_account_cannot_publish(mqtt_access, devices, watcher, unique):
    device = next(iter(devices))
    gw = Client(mqtt_access.service, mqtt_access.gateway, f"gwpub-{unique}")
    assert gw.accepted
    gw.publish(topic(unique, device), b"forged by the gateway account")
    assert wait_messages(watcher, 1, 2.0) == []
    gw.close()


def test_a_client_id_cannot_take_over_another_devices_session(mqtt_access, devices, unique):
    (a, a_account), (b, b_account) = list(devices.items())[:2]
    victim = Client(mqtt_access.device, b_account, client_id=b)
    attacker = Client(mqtt_access.device, a_account, client_id=b)  # the broker replaces it by "a"
    wild = Client(mqtt_access.device, a_account, client_id="x/#+")
    assert victim.accepted and attacker.accepted and wild.accepted
    time.sleep(1.0)
    assert not victim.disconnected.is_set(), "a device took over another device's session by its client id"
    for c in (victim, attacker, wild):
        c.close()


def test_names_with_wildcards_or_slashes_are_refused(stack_settings, mqtt_access):
    for name in ("a#b", "a+b", "a/b", "#", "", "a b"):
        with pytest.raises(broker_auth.AccountError):
            broker_auth.provision_devices(stack_settings, [name])
    assert "a#b" not in broker_auth.load(stack_settings)["devices"]
    c = Client(mqtt_access.device, ("a#b", "anything"))
    assert c.connack.is_failure
    c.close()


def test_revoked_device_is_refused_and_rotation_retires_the_old_password(stack_settings, mqtt_access, devices,
                                                                          watcher, unique):
    (a, a_account), (b, b_account) = list(devices.items())[:2]
    connected = Client(mqtt_access.device, a_account)
    assert connected.accepted
    broker_auth.revoke_device(stack_settings, a)
    time.sleep(0.5)
    assert Client(mqtt_access.device, a_account).connack.is_failure, "a revoked device could connect"
    assert connected.disconnected.wait(5), "the revoked device's open connection was kept"

    new_password = broker_auth.rotate_device(stack_settings, b)
    assert Client(mqtt_access.device, b_account).connack.is_failure, "the old password still works"
    rotated = Client(mqtt_access.device, (b, new_password))
    assert rotated.accepted
    rotated.publish(topic(unique, b), b"after rotation")
    assert wait_messages(watcher, 1) == [(topic(unique, b), b"after rotation")]
    rotated.close()


def test_tls_listener_with_the_local_ca(mqtt_access, devices, watcher, unique):
    device, account = next(iter(devices.items()))
    secure = Client(mqtt_access.tls, account, ca_file=mqtt_access.ca_file)
    assert secure.accepted
    secure.publish(topic(unique, device), b"over TLS")
    assert wait_messages(watcher, 1) == [(topic(unique, device), b"over TLS")]
    secure.close()
    plain = subprocess.run(["mosquitto_pub", "-h", mqtt_access.tls[0], "-p", str(mqtt_access.tls[1]), "-u", device,
                            "-P", account[1], "-t", topic(unique, device), "-m", "plain", "-q", "1"],
                           capture_output=True, timeout=20)
    assert plain.returncode != 0, "a plain-text client was served by the TLS listener"
    assert wait_messages(watcher, 1, 1.0) == [(topic(unique, device), b"over TLS")]
