"""The local Mosquitto broker: Debian's package, run with the project's own config file."""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path

from stack import broker_auth, tls
from stack.exceptions import InstallError, ServiceStartError
from stack.process import foreign_listener, log_tail, running_pid, spawn, stop_pid_file, wait_until
from stack.settings import StackSettings

SERVICE = "mosquitto"
TEMPLATE = Path(__file__).parent / "templates" / "mosquitto.conf"


def binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not found:
        raise InstallError("mosquitto is not installed: run deploy/local/install.sh (apt-get install mosquitto)")
    return found


def config_path(settings: StackSettings) -> Path:
    return settings.root / "mosquitto" / "mosquitto.conf"


def write_config(settings: StackSettings) -> Path:
    data_dir = settings.root / "mosquitto" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    broker_auth.write_broker_files(settings, broker_auth.ensure(settings))  # the ACLs of this checkout's code
    text = TEMPLATE.read_text().format(
        port=settings.mqtt_port,
        tls_port=settings.mqtt_tls_port,
        service_port=settings.mqtt_service_port,
        auth_dir=broker_auth.auth_dir(settings),
        tls_dir=tls.ensure_ca(settings),
        require_certificate="true" if settings.mqtt_require_client_cert else "false",
        host=settings.host,
        data_dir=data_dir,
        log_file=settings.log_file(SERVICE),
    )
    # Run as the invoking user (as root Mosquitto would switch to user "mosquitto", which cannot
    # write into the repository's data folder).
    text += f"user {getpass.getuser()}\n"
    path = config_path(settings)
    path.write_text(text)
    return path


def answers(settings: StackSettings, timeout_s: float = 3.0) -> bool:
    """A real MQTT CONNECT/CONNACK round trip with paho: the local stack's probe account must be
    accepted; an external broker only has to answer (it may refuse an anonymous probe)."""
    import paho.mqtt.client as mqtt

    host, port = settings.mqtt_service_endpoint
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
    external = settings.is_external(SERVICE)
    if not external:
        client.username_pw_set(*broker_auth.service_account(settings, "citysense-probe"))
    connack: list = []
    client.on_connect = lambda c, u, flags, rc, props: connack.append(rc)
    try:
        client.connect(host, port, keepalive=5)
        wait_until(lambda: (client.loop(timeout=0.1) or True) and bool(connack), timeout_s, 0.01)
        client.disconnect()
        return bool(connack) and (external or not connack[0].is_failure)
    except OSError:
        return False


def pid(settings: StackSettings) -> int | None:
    return running_pid(settings.pid_file(SERVICE), "mosquitto")


def up(settings: StackSettings) -> str:
    if settings.is_external(SERVICE):
        return "external"
    if pid(settings):
        if answers(settings):
            return "already running"
    host, port = settings.mqtt_endpoint
    if pid(settings) is None:
        why = foreign_listener("Mosquitto", settings.host,
                               [settings.mqtt_port, settings.mqtt_tls_port, settings.mqtt_service_port],
                               settings.pid_file(SERVICE),
                               "CITYSENSE_STACK_MQTT_PORT, _MQTT_TLS_PORT, _MQTT_SERVICE_PORT")
        if why:
            raise ServiceStartError("Mosquitto", f"mqtt://{host}:{port}", str(settings.log_file(SERVICE)), why)
    conf = write_config(settings)
    spawn([binary(), "-c", str(conf)], settings.pid_file(SERVICE), settings.log_file(SERVICE))
    if not wait_until(lambda: pid(settings) is not None and answers(settings, 1.0), settings.start_timeout_s):
        log = settings.log_file(SERVICE)
        raise ServiceStartError(
            "Mosquitto", f"mqtt://{host}:{port}", str(log),
            "no CONNACK (port in use by another program?)\n" + log_tail(log),
        )
    return "started"


def down(settings: StackSettings) -> bool:
    return stop_pid_file(settings.pid_file(SERVICE), expect_in_cmdline="mosquitto")
