"""`citysense devices add | rotate | revoke`: registry and broker account in one step, on the real broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone

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


def test_a_device_is_placed_in_the_commune_at_its_coordinates(tmp_path, mqtt_access, unique):
    registry = tmp_path / "devices.json"
    # 20.96038 N 106.32625 E: the source's point inside Phường Thành Đông (10507), former district 288
    added = cli("add", f"pl-{unique}", "--kind", "noise", "--lat", "20.96038", "--lon", "106.32625",
                "--registry", str(registry))
    assert (added["area"], added["level"]) == (10507, "commune")
    device = DeviceRegistry.from_file(registry).get(f"pl-{unique}")
    assert (device.district, device.lat, device.lon) == (10507, 20.96038, 106.32625)
    for args, expected in ((["--lat", "106.32625", "--lon", "20.96038"], "nearest is"),  # swapped
                           (["--lat", "20.96038", "--lon", "106.32625", "--area", "99999"], "not in the area set"),
                           ([], "give --lat and --lon")):
        done = subprocess.run([sys.executable, "-m", "cli.main", "devices", "add", f"pl2-{unique}", "--kind", "noise",
                               *args, "--registry", str(registry)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and expected in done.stdout, done.stdout + done.stderr
    assert DeviceRegistry.from_file(registry).get(f"pl2-{unique}") is None
    cli("revoke", f"pl-{unique}", "--registry", str(registry))


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


async def test_a_device_added_as_the_readme_says_is_known_to_the_gateway(mqtt_access, kafka_bootstrap, unique,
                                                                         tmp_path, monkeypatch):
    """`citysense devices add` and `citysense gateway` with no registry named anywhere use one file."""
    from telemetry.paths import registry_path
    from telemetry.topics import KafkaTopics, uplink_topic
    from tests.integration.helpers import Publisher, ServiceProcess, free_port, http_get, read_topic, wait_for

    monkeypatch.delenv("CITYSENSE_REGISTRY", raising=False)
    default = registry_path()
    before = default.read_bytes() if default.exists() else None
    device = f"readme-{unique}"
    done = subprocess.run([sys.executable, "-m", "cli.main", "devices", "add", device, "--district", "288", "--kind",
                           "air_quality", "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    added = json.loads(done.stdout)
    gateway = None
    try:
        assert added["registry"] == str(default)
        port, topics, root = free_port(), KafkaTopics(f"test{unique}"), f"t{unique}"
        # Only names that keep this test apart from others; the registry and the accounts are the defaults.
        env = {"CITYSENSE_GATEWAY_CLIENT_ID": f"gw-{unique}", "CITYSENSE_GATEWAY_TOPIC_PREFIX": topics.prefix,
               "CITYSENSE_GATEWAY_TOPIC_ROOT": root, "CITYSENSE_GATEWAY_METRICS_PORT": str(port),
               "CITYSENSE_GATEWAY_SESSION_EXPIRY_S": "60"}
        gateway = ServiceProcess(["gateway"], env, tmp_path / "gateway.log").start()
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60, what="gateway healthy")
        time.sleep(0.5)  # the broker restarted to read the new account; the device connects after it
        pub = Publisher(*mqtt_access.device, device, device, added["password"])
        pub.publish(uplink_topic(288, device, root), json.dumps({"ts": datetime.now(timezone.utc).isoformat(),
                                                                 "seq": 1, "metrics": {"pm2_5": 12.5}}))
        pub.wait_all()
        pub.close()
        [record] = await read_topic(kafka_bootstrap, topics.readings, until=1, timeout=30)
        assert json.loads(record.value)["device_id"] == device
        assert await read_topic(kafka_bootstrap, topics.deadletter, quiet=1.0, timeout=5) == []
    finally:
        if gateway is not None:
            assert gateway.stop() == 0
        subprocess.run([sys.executable, "-m", "cli.main", "devices", "revoke", device, "--json"],
                       capture_output=True, timeout=60)
        if before is None:
            default.unlink(missing_ok=True)
        else:
            default.write_bytes(before)
