"""The whole platform for end-to-end tests: a fresh database, a gateway, a streams worker and the
sink as real processes on the real local stack, with names of their own."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import psycopg

from api import keys
from storage.databases import as_role
from storage.registry_db import seed
from telemetry.devices import DeviceRegistry
from telemetry.areas import DEFAULT_SET, AreaRegistry
from tests.integration.helpers import ServiceProcess, free_port, fresh_database, http_get, wait_for


@contextmanager
def running_platform(tmp_path: Path, unique: str, database_url: str, mqtt_access, kafka_bootstrap: str,
                     registry: DeviceRegistry, area_set: str = DEFAULT_SET, with_api: bool = False,
                     **extra_env: str):
    """Yields {"dsn", "root", "procs", "ports", "env"}; every process is stopped afterwards. Every
    service and the seed use `area_set`. `with_api`: the API too, and a viewer's key in "viewer_key"."""
    registry.write(tmp_path / "devices.json")
    procs = []
    with fresh_database(database_url, f"e2e_{unique}") as dsn:
        seed(dsn, AreaRegistry.named(area_set), registry)
        root = f"e2e{unique}"
        env = {**mqtt_access.gateway_env(),
               "CITYSENSE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CITYSENSE_DATABASE_URL": dsn,
               "CITYSENSE_REGISTRY": str(tmp_path / "devices.json"), "CITYSENSE_TOPIC_PREFIX": root,
               "CITYSENSE_GATEWAY_TOPIC_ROOT": root, "CITYSENSE_GATEWAY_CLIENT_ID": f"gw-{unique}",
               "CITYSENSE_GATEWAY_SESSION_EXPIRY_S": "300",
               "CITYSENSE_STREAMS_APP_ID": f"e2e-streams-{unique}", "CITYSENSE_STREAMS_DATA_DIR": str(tmp_path / "faust"),
               "CITYSENSE_STREAMS_BATCH_WITHIN_S": "0.2", "CITYSENSE_STORAGE_GROUP_ID": f"e2e-sink-{unique}",
               "CITYSENSE_AREA_SET": area_set,
               **extra_env}
        ports = {}
        try:
            names = ("gateway", "streams", "sink", *(("api",) if with_api else ()))
            viewer_key = None
            if with_api:
                env["CITYSENSE_API_READ_DATABASE_URL"] = as_role(dsn, "citysense_ro")
                env["CITYSENSE_API_ACTIONS_DATABASE_URL"] = as_role(dsn, "citysense_api")
                with psycopg.connect(dsn, autocommit=True) as conn:
                    viewer_key = keys.create(conn, "e2e viewer", keys.Role.VIEWER)[1]
            for name in names:
                ports[name] = free_port()
                port_var = {"sink": "CITYSENSE_STORAGE_METRICS_PORT", "api": "CITYSENSE_API_PORT"}.get(
                    name, f"CITYSENSE_{name.upper()}_METRICS_PORT")
                penv = {**env, port_var: str(ports[name])}
                procs.append(ServiceProcess([name], penv, tmp_path / f"{name}.log").start())
            for name, port in ports.items():
                wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 90, what=f"{name} healthy")
            yield {"dsn": dsn, "root": root, "procs": procs, "ports": ports, "env": env, "viewer_key": viewer_key}
        finally:
            for p in procs:
                p.stop()
