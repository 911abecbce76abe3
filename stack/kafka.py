"""The local Apache Kafka broker (KRaft), run from Apache Kafka's own jars from Maven Central."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stack.exceptions import InstallError, ServiceStartError
from stack.process import foreign_listener, log_tail, running_pid, spawn, stop_pid_file, wait_until
from stack.settings import StackSettings

SERVICE = "kafka"
TEMPLATES = Path(__file__).parent / "templates"
MAIN_CLASS = "kafka.Kafka"


def libs_dir(settings: StackSettings) -> Path:
    return settings.root / "kafka" / "libs"


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise InstallError("java is not installed: run deploy/local/install.sh (a Java 17+ runtime)")
    return found


def classpath(settings: StackSettings) -> str:
    libs = libs_dir(settings)
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise InstallError(
            f"Kafka's jars are missing in {libs}: run deploy/local/install.sh "
            "(resolves deploy/local/kafka/pom.xml from Maven Central with mvn)"
        )
    return f"{libs}/*"


def write_config(settings: StackSettings) -> tuple[Path, Path]:
    conf_dir = settings.root / "kafka" / "config"
    conf_dir.mkdir(parents=True, exist_ok=True)
    settings.logs.mkdir(parents=True, exist_ok=True)
    server = conf_dir / "server.properties"
    server.write_text(
        (TEMPLATES / "server.properties").read_text().format(
            host=settings.host,
            port=settings.kafka_port,
            controller_port=settings.kafka_controller_port,
            log_dirs=settings.root / "kafka" / "data",
        )
    )
    log4j = conf_dir / "log4j.properties"
    log4j.write_text((TEMPLATES / "log4j.properties").read_text())
    return server, log4j


def format_storage(settings: StackSettings, server: Path) -> None:
    """Format the KRaft storage once (skipped when meta.properties exists)."""
    if (settings.root / "kafka" / "data" / "meta.properties").exists():
        return
    cp = classpath(settings)
    cluster_id = subprocess.run(
        [java(), "-cp", cp, "kafka.tools.StorageTool", "random-uuid"],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    out = subprocess.run(
        [java(), "-cp", cp, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(server)],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise ServiceStartError("Kafka", settings.kafka_bootstrap, str(server), "storage format failed: " + out.stderr)


async def _metadata(bootstrap: str, timeout_s: float) -> list[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        return sorted(await asyncio.wait_for(admin.list_topics(), timeout_s))
    finally:
        await admin.close()


def answers(settings: StackSettings, timeout_s: float = 5.0) -> bool:
    """A real metadata request with aiokafka's admin client (not just an open port)."""
    import logging

    client_log = logging.getLogger("aiokafka")
    previous = client_log.level
    client_log.setLevel(logging.CRITICAL)  # a refused probe is expected while the broker starts
    try:
        # In a thread of its own: the caller may itself run inside an event loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _metadata(settings.kafka_bootstrap, timeout_s)).result()
        return True
    except Exception:
        return False
    finally:
        client_log.setLevel(previous)


def pid(settings: StackSettings) -> int | None:
    return running_pid(settings.pid_file(SERVICE), MAIN_CLASS)


def up(settings: StackSettings) -> str:
    if settings.is_external(SERVICE):
        return "external"
    if pid(settings) and answers(settings):
        return "already running"
    if pid(settings) is None:
        why = foreign_listener("Kafka", settings.host, [settings.kafka_port, settings.kafka_controller_port],
                               settings.pid_file(SERVICE), "CITYSENSE_STACK_KAFKA_PORT, _KAFKA_CONTROLLER_PORT")
        if why:
            raise ServiceStartError("Kafka", settings.kafka_bootstrap, str(settings.log_file(SERVICE)), why)
    server, log4j = write_config(settings)
    format_storage(settings, server)
    log = settings.log_file(SERVICE)
    heap = settings.kafka_heap_mb
    argv = [
        java(), f"-Xms{min(256, heap)}m", f"-Xmx{heap}m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{log4j}", f"-Dkafka.logs.file={log}",
        "-cp", classpath(settings), MAIN_CLASS, str(server),
    ]
    spawn(argv, settings.pid_file(SERVICE), settings.root / "kafka" / "stdout.log")
    if not wait_until(lambda: pid(settings) is not None and answers(settings, 3.0), settings.start_timeout_s, 0.5):
        raise ServiceStartError(
            "Kafka", settings.kafka_bootstrap, str(log),
            "no metadata answer (port in use, or the JVM failed; see also .stack/kafka/stdout.log)\n"
            + log_tail(log),
        )
    return "started"


def down(settings: StackSettings) -> bool:
    return stop_pid_file(settings.pid_file(SERVICE), expect_in_cmdline=MAIN_CLASS, timeout_s=60)
