"""`citysense stack up` refuses to start a service whose port a process it did not start already
holds (an orphan of an earlier run, another broker): clients would talk to that one instead. Real
loopback sockets, no services."""

from __future__ import annotations

import socket

import pytest

from stack import kafka, mosquitto, postgres
from stack.exceptions import ServiceStartError
from stack.process import foreign_listener
from stack.settings import StackSettings


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_names_the_taken_port_and_the_way_out(listener, tmp_path):
    why = foreign_listener("Mosquitto", "127.0.0.1", [free_port(), listener], tmp_path / "m.pid",
                           "CITYSENSE_STACK_MQTT_PORT")
    assert f"port {listener} on 127.0.0.1 is already in use" in why
    assert f"ss -ltnp 'sport = :{listener}'" in why and "CITYSENSE_STACK_MQTT_PORT" in why
    assert foreign_listener("Mosquitto", "127.0.0.1", [free_port()], tmp_path / "m.pid", "x") is None


@pytest.mark.parametrize("module, field", [(mosquitto, "mqtt_service_port"), (kafka, "kafka_controller_port"),
                                           (postgres, "pg_port")])
def test_up_refuses_a_port_held_by_another_process(module, field, listener, tmp_path, monkeypatch):
    for name in ("CITYSENSE_MQTT_HOST", "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS", "CITYSENSE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    ports = {"mqtt_port": free_port(), "mqtt_tls_port": free_port(), "mqtt_service_port": free_port(),
             "kafka_port": free_port(), "kafka_controller_port": free_port(), "pg_port": free_port()}
    settings = StackSettings(data_dir=tmp_path, **{**ports, field: listener})
    monkeypatch.setattr(module, "spawn", _must_not_spawn)
    with pytest.raises(ServiceStartError, match=f"port {listener} on 127.0.0.1 is already in use"):
        module.up(settings)


def _must_not_spawn(*args, **kwargs):
    raise AssertionError("started a service on a port another process holds")
