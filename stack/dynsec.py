"""Accounts of a Mosquitto broker run with its dynamic-security plugin, changed while it runs: the
plugin's JSON commands published to `$CONTROL/dynamic-security/v1` by its admin, the answers read
from `…/response` (mosquitto.org/documentation/dynamic-security). Adding, rotating or revoking a
device never restarts the broker, so no other client is disconnected.

Mosquitto 2.0's plugin has no `%u` in ACL topics (eclipse-mosquitto #2222, added in 2.1): each device
gets its own role allowing it to publish to its own uplink topic only, and its client id is bound to
its username (a device cannot take over another's session).
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from stack.broker_auth import AccountError, check_name

CONTROL = "$CONTROL/dynamic-security/v1"
UPLINKS = "+/v1/+/+/telemetry"


def device_role(device_id: str) -> str:
    return f"device-{device_id}"


def device_commands(device_id: str, password: str) -> list[dict]:
    """A device's role (publish to its own uplink, in any topic root and district) and its client."""
    check_name(device_id)
    role = device_role(device_id)
    return [{"command": "createRole", "rolename": role, "acls": [
                {"acltype": "publishClientSend", "topic": f"+/v1/+/{device_id}/telemetry", "allow": True}]},
            {"command": "createClient", "username": device_id, "password": password, "clientid": device_id,
             "roles": [{"rolename": role}]}]


def service_commands(name: str, password: str, subscribe: bool, publish: bool) -> list[dict]:
    """A platform service's account: the gateway subscribes to every uplink (plain or in a share
    group), a bridge publishes for devices, a probe only connects."""
    acls = []
    if subscribe:
        acls += [{"acltype": "subscribePattern", "topic": UPLINKS, "allow": True},
                 {"acltype": "subscribePattern", "topic": f"$share/+/{UPLINKS}", "allow": True}]
    if publish:
        acls.append({"acltype": "publishClientSend", "topic": UPLINKS, "allow": True})
    return [{"command": "createRole", "rolename": f"service-{name}", "acls": acls},
            {"command": "createClient", "username": name, "password": password,
             "roles": [{"rolename": f"service-{name}"}]}]


@dataclass(frozen=True)
class Admin:
    """Where and as whom to send commands: the broker's service listener (TLS with a client certificate)."""

    host: str
    port: int
    ca_file: Path
    cert: tuple[Path, Path]
    username: str
    password: str

    def run(self, commands: list[dict], timeout_s: float = 10.0, tolerate: tuple[str, ...] = ()) -> list[dict]:
        """Send the commands in one message; their answers in order. An error the plugin reports fails
        the call (AccountError), unless its text contains one of `tolerate` (e.g. "already exists")."""
        answers: list[dict] = []
        done = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
        client.username_pw_set(self.username, self.password)
        client.tls_set(ca_certs=str(self.ca_file), certfile=str(self.cert[0]), keyfile=str(self.cert[1]),
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
        subscribed = threading.Event()
        client.on_subscribe = lambda *a: subscribed.set()

        def on_message(c, userdata, msg):
            answers.extend(json.loads(msg.payload).get("responses", []))
            if len(answers) >= len(commands):
                done.set()

        client.on_message = on_message
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{CONTROL}/response", qos=1) if not rc.is_failure else None
        try:
            client.connect(self.host, self.port, keepalive=10)
        except OSError as exc:
            raise AccountError(f"dynamic security: cannot reach the broker at {self.host}:{self.port}: {exc}") from exc
        client.loop_start()
        try:
            if not subscribed.wait(timeout_s):
                raise AccountError(f"dynamic security: the broker at {self.host}:{self.port} refused the admin "
                                   f"{self.username!r} (certificate, password or role): see its log")
            client.publish(CONTROL, json.dumps({"commands": commands}), qos=1)
            if not done.wait(timeout_s):
                raise AccountError(f"dynamic security: no answer to {len(commands)} commands in {timeout_s} s")
        finally:
            client.disconnect()
            client.loop_stop()
        failed = [a for a in answers if a.get("error") and not any(t in a["error"] for t in tolerate)]
        if failed:
            raise AccountError("dynamic security refused: " + "; ".join(f"{a.get('command')}: {a['error']}"
                                                                       for a in failed[:5]))
        return answers

    def add_devices(self, passwords: dict[str, str]) -> None:
        self.run([c for d, pw in passwords.items() for c in device_commands(d, pw)])

    def rotate_device(self, device_id: str, password: str) -> None:
        self.run([{"command": "setClientPassword", "username": device_id, "password": password}])

    def revoke_devices(self, device_ids: list[str]) -> None:
        """Delete the clients (the plugin disconnects any that are connected) and their roles."""
        self.run([c for d in device_ids for c in (
            {"command": "deleteClient", "username": d}, {"command": "deleteRole", "rolename": device_role(d)})])

    def clients(self) -> set[str]:
        answer = self.run([{"command": "listClients", "count": -1}])[0]
        return set(answer.get("data", {}).get("clients", []))
