"""The production rehearsal's Mosquitto (stack/secure_broker.py): TLS on every listener, accounts in the
dynamic-security plugin changed while it runs — no restart, no other client disconnected."""

from __future__ import annotations

import socket
import ssl

import pytest

from stack.dynsec import device_commands
from stack.broker_auth import AccountError
from stack.secure_broker import SecureBroker

from .test_broker_access import Client, wait_messages

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(stack_settings):
    b = SecureBroker(stack_settings)
    b.up()
    yield b
    b.down()


@pytest.fixture
def setup(broker, unique):
    ids = [f"dyn-{unique}-{i}" for i in range(3)]
    access = broker.access(ids)
    watcher = Client(access.service, access.gateway, f"watch-{unique}", ca_file=access.ca_file, cert=access.service_cert)
    watcher.subscribe(f"$share/w{unique}/d{unique}/v1/+/+/telemetry")
    yield access, ids, watcher
    watcher.close()
    broker.admin.revoke_devices([d for d in ids if d in broker.admin.clients()])


def device(access, name: str, client_id: str | None = None, tls: bool = True, wait_s: float = 10) -> Client:
    return Client(access.device, (name, access.devices[name]), client_id or name,
                  ca_file=access.ca_file if tls else None, connect_wait_s=wait_s)


def topic(unique: str, name: str) -> str:
    return f"d{unique}/v1/288/{name}/telemetry"


def test_every_listener_needs_tls_and_the_services_one_a_certificate(setup):
    access, ids, _ = setup
    plain = device(access, ids[0], tls=False, wait_s=3)  # a plain MQTT CONNECT to a TLS listener: no CONNACK
    assert plain.connack is None
    plain.close()
    no_cert = Client(access.service, access.gateway, "gw-no-cert", ca_file=access.ca_file, connect_wait_s=3)
    assert no_cert.connack is None, "the services' listener accepted a client without a certificate"
    no_cert.close()
    with pytest.raises(ssl.SSLError):  # and the server's certificate is checked by the clients
        ctx = ssl.create_default_context()  # the system's CAs only: the local CA is not among them
        with socket.create_connection(access.device, timeout=5) as sock:
            ctx.wrap_socket(sock, server_hostname="localhost").close()


def test_a_device_publishes_only_its_own_uplink_with_its_own_client_id(setup, unique):
    access, (a, b, _), watcher = setup
    client = device(access, a)
    assert client.accepted
    client.publish(topic(unique, a), b"own")
    client.publish(topic(unique, b), b"forged")
    got = wait_messages(watcher, 2)
    assert [t for t, _ in got] == [topic(unique, a)]
    other_id = device(access, b, client_id=a)  # b trying to take over a's session
    assert other_id.connack is not None and other_id.connack.is_failure
    assert not client.disconnected.is_set()
    for c in (client, other_id):
        c.close()


def test_revoke_rotate_add_while_running_disconnect_no_one_else(broker, setup, unique):
    access, (a, b, c), watcher = setup
    pid = broker.pid()
    clients = {d: device(access, d) for d in (a, b, c)}
    assert all(x.accepted for x in clients.values())

    broker.admin.revoke_devices([a])
    assert clients[a].disconnected.wait(5), "the revoked device stayed connected"
    again = device(access, a)
    assert again.connack is not None and again.connack.is_failure

    old = access.devices[b]
    broker.admin.rotate_device(b, "rotated-" + unique)
    stale = Client(access.device, (b, old), "stale-" + b, ca_file=access.ca_file)
    assert stale.connack is not None and stale.connack.is_failure, "the old password still works"

    new = f"dyn-{unique}-new"
    access.devices[new] = broker.access([new]).devices[new]
    joined = device(access, new)
    assert joined.accepted
    joined.publish(topic(unique, new), b"hello")
    assert topic(unique, new) in [t for t, _ in wait_messages(watcher, 1)]

    assert not clients[c].disconnected.is_set() and not watcher.disconnected.is_set()
    assert broker.pid() == pid, "the broker restarted"
    for x in (*clients.values(), again, stale, joined):
        x.close()
    broker.admin.revoke_devices([new])


def test_names_with_wildcards_never_reach_the_plugin():
    for bad in ("a/b", "#", "dev+1", "", "x" * 65):
        with pytest.raises(AccountError):
            device_commands(bad, "pw")
