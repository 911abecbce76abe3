"""`citysense devices add | rotate | revoke`: registry and broker account in one step, on the real broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from telemetry.devices import DeviceRegistry, DeviceStatus

from .test_broker_access import Client


def cli(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "cli.main", "devices", *args, "--json"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_add_rotate_revoke_in_one_step(tmp_path, mqtt_access, unique):
    registry = tmp_path / "devices.json"
    device = f"cli-{unique}"
    added = cli("add", device, "--district", "288", "--kind", "air_quality", "--registry", str(registry))
    assert added["broker_reloaded"] and DeviceRegistry.from_file(registry).get(device).district == 288
    time.sleep(0.3)
    first = Client(mqtt_access.device, (device, added["password"]))
    assert first.accepted
    first.close()

    rotated = cli("rotate", device, "--registry", str(registry))
    time.sleep(0.3)
    assert Client(mqtt_access.device, (device, added["password"])).connack.is_failure
    again = Client(mqtt_access.device, (device, rotated["password"]))
    assert again.accepted

    revoked = cli("revoke", device, "--registry", str(registry))
    assert revoked["account_deleted"]
    assert again.disconnected.wait(5), "the revoked device's connection stayed open"
    assert Client(mqtt_access.device, (device, rotated["password"])).connack.is_failure
    assert DeviceRegistry.from_file(registry).get(device).status is DeviceStatus.REVOKED
    assert rotated["password"] not in (tmp_path / "devices.json").read_text()


def test_names_the_broker_could_misread_are_refused(tmp_path):
    for name in ("a#b", "a/b", "+"):
        done = subprocess.run([sys.executable, "-m", "cli.main", "devices", "add", name, "--district", "288",
                               "--kind", "air_quality", "--registry", str(tmp_path / "r.json")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "refused" in done.stdout


def test_no_secret_in_stack_status(stack_settings):
    from stack import broker_auth

    creds = broker_auth.load(stack_settings)
    secrets = [*creds["services"].values(), *list(creds["devices"].values())[:50]]
    pg = f":{stack_settings.pg_password.get_secret_value()}@"  # the local default equals the role's name
    for args in (["stack", "status"], ["stack", "status", "--json"]):
        out = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0
        leaked = [s for s in [*secrets, pg] if s and s in out.stdout + out.stderr]
        assert leaked == [], "a password appears in `citysense stack status`"
