"""Bring the whole local stack up, report its status, take it down (in dependency order)."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from dataclasses import asdict, dataclass

from stack import kafka, mosquitto, postgres
from stack.exceptions import InstallError
from stack.settings import StackSettings

logger = logging.getLogger(__name__)

SERVICES = {"mosquitto": mosquitto, "kafka": kafka, "postgres": postgres}


@dataclass
class ServiceStatus:
    service: str
    endpoint: str
    managed: str  # "local" (started by this stack) or "external"
    pid: int | None
    answers: bool
    log_file: str | None


def prerequisites_missing(settings: StackSettings) -> list[str]:
    missing = []
    for name, check in (
        ("mosquitto", lambda: mosquitto.binary()),
        ("java", lambda: kafka.java()),
        ("kafka jars", lambda: kafka.classpath(settings)),
        ("postgresql+timescaledb", lambda: postgres.bindir(settings)),
    ):
        svc = {"java": "kafka", "kafka jars": "kafka", "postgresql+timescaledb": "postgres"}.get(name, name)
        if settings.is_external(svc):
            continue
        try:
            check()
        except InstallError:
            missing.append(name)
    return missing


def install(settings: StackSettings) -> None:
    """Run deploy/local/install.sh (apt packages, TimescaleDB build, Kafka jars); idempotent."""
    script = settings.repo_dir / "deploy" / "local" / "install.sh"
    if not script.exists():
        raise InstallError(f"{script} not found: run citysense from its checkout, or set CITYSENSE_STACK_REPO_DIR")
    logger.info("installing prerequisites with %s", script)
    subprocess.run(["bash", str(script), "--system"], check=True, env={
        **os.environ, "CITYSENSE_STACK_DIR": str(settings.root)})


def up(settings: StackSettings) -> dict[str, str]:
    if prerequisites_missing(settings):
        install(settings)
    results = {}
    for name, module in SERVICES.items():
        started = time.monotonic()
        results[name] = module.up(settings)
        logger.info("%s: %s (%.1f s)", name, results[name], time.monotonic() - started)
    return results


def up_production(settings: StackSettings) -> dict[str, str]:
    """The local stack, then the production rehearsal's pieces beside it: the 3-node KRaft cluster
    (SASL/SCRAM over TLS, ACLs) and the Mosquitto with TLS and dynamic security; PostgreSQL is the
    local one, over TLS. Returns what started and where each piece listens."""
    from stack.cluster import Cluster
    from stack.secure_broker import DEVICE_PORT, SERVICE_PORT, SecureBroker

    results = up(settings)
    cluster, broker = Cluster(settings), SecureBroker(settings)
    results["kafka-cluster"] = f"{cluster.up()}: {cluster.bootstrap} (SASL_SSL, SCRAM-SHA-512; passwords in " \
                               f"{cluster.root / 'users'}, admin by certificate: {cluster.admin_config()})"
    results["mqtt-secure"] = f"{broker.up()}: devices {settings.host}:{DEVICE_PORT} (TLS), services " \
                             f"{settings.host}:{SERVICE_PORT} (TLS + client certificate); accounts in " \
                             f"{broker.folder / 'accounts'}"
    results["postgres-tls"] = f"sslmode=verify-full sslrootcert={settings.root / 'tls' / 'ca.crt'}"
    return results


def down(settings: StackSettings) -> dict[str, bool]:
    # Reverse order: nothing publishes into a stopped broker.
    from stack.cluster import NODES, Cluster
    from stack.secure_broker import SecureBroker

    rehearsal = Cluster(settings)
    if any(rehearsal.pid(n) for n in NODES):  # the production rehearsal's nodes, left by an interrupted run
        rehearsal.down()
    SecureBroker(settings).down()  # and its broker
    return {name: SERVICES[name].down(settings) for name in reversed(list(SERVICES))}


def status(settings: StackSettings) -> list[ServiceStatus]:
    host, port = settings.mqtt_endpoint
    endpoints = {
        "mosquitto": f"mqtt://{host}:{port}",
        "kafka": settings.kafka_bootstrap,
        "postgres": settings.database_url_display,
    }
    out = []
    for name, module in SERVICES.items():
        external = settings.is_external(name)
        out.append(ServiceStatus(
            service=name,
            endpoint=endpoints[name],
            managed="external" if external else "local",
            pid=None if external else module.pid(settings),
            answers=module.answers(settings),
            log_file=None if external else str(settings.log_file(name)),
        ))
    return out


def status_dict(settings: StackSettings) -> dict:
    host, port = settings.mqtt_endpoint
    return {
        "data_dir": str(settings.root),
        "mqtt": {"host": host, "port": port},
        "kafka": {"bootstrap_servers": settings.kafka_bootstrap},
        "postgres": {"dsn": settings.database_url_display},
        "services": [asdict(s) for s in status(settings)],
    }
