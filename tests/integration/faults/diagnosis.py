"""What a failed fault run has to say for itself, in the failure message: where the missing readings
stopped (in Kafka's readings topic or not: the gateway side or the sink side), what each service
reports about itself, and the warnings and errors of its log. The logs live in pytest's temporary
folder, which a CI run does not keep, so the message must carry them."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

from telemetry.topics import KafkaTopics
from tests.integration.helpers import http_get, read_topic, values

NOTABLE = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b")
COUNTERS = re.compile(r"^citysense_gateway_(?!kafka_produce_seconds)\w+(?<!_created)(\{[^}]*\})? ")


def in_readings_topic(bootstrap: str, prefix: str, missing: set[tuple[str, int]]) -> int:
    """How many of the missing (device, seq) Kafka's readings topic holds."""
    records = asyncio.run(read_topic(bootstrap, KafkaTopics(prefix).readings, timeout=60, quiet=3.0))
    return len(missing & {(v["device_id"], v["seq"]) for v in values(records)})


def notable_lines(log: Path, limit: int = 12) -> list[str]:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError as exc:
        return [f"(cannot read {log}: {exc})"]
    return [line[:300] for line in lines if NOTABLE.search(line)][-limit:]


def exit_status(proc) -> str:
    code = proc.proc.poll() if proc.proc else None
    if code is None:
        return "running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with {code}"


def service_report(name: str, proc, port: int) -> str:
    status, body = http_get(f"http://127.0.0.1:{port}/healthz")
    lines = [f"--- {name} ({exit_status(proc)}): /healthz {status} {body.strip()[:300]}"]
    if name == "gateway":
        status, metrics = http_get(f"http://127.0.0.1:{port}/metrics")
        lines += [m for m in metrics.splitlines() if COUNTERS.match(m)][:20]
    lines += notable_lines(proc.log_file) or ["(no warnings or errors in its log)"]
    return "\n".join(lines)


def explain(platform, bootstrap: str, missing: set[tuple[str, int]]) -> str:
    try:
        in_kafka = f"{in_readings_topic(bootstrap, platform.root, missing)} of them are in the readings topic"
    except Exception as exc:  # the report must not hide the failure it reports
        in_kafka = f"the readings topic could not be read ({exc!r})"
    reports = []
    for name, proc in platform.procs.items():
        try:
            reports.append(service_report(name, proc, platform.ports[name]))
        except Exception as exc:
            reports.append(f"--- {name}: no report ({exc!r}); log {proc.log_file}")
    return f"{in_kafka}\n" + "\n".join(reports)


WINDOW_KEY = re.compile(r"^\((\d+), '(\w+)', (\d+), '([^']+)'\): count")


def window_readings(dsn: str, wrong: list[str], limit: int = 2) -> str:
    """For the first windows whose count differs: each stored reading in it, with its deliveries, reception
    and whether the streams reported it late (what the oracle leaves out)."""
    import psycopg

    lines = []
    keys = [m.groups() for m in map(WINDOW_KEY.match, wrong) if m][:limit]
    with psycopg.connect(dsn) as conn:
        late = conn.execute("SELECT count(*) FROM late_readings").fetchone()[0]
        for district, metric, size_s, start in keys:
            rows = conn.execute(
                "SELECT r.device_id, r.seq, r.ts, r.received_at, r.deliveries, l.late_by_s, l.kafka_offset "
                "FROM readings r LEFT JOIN late_readings l USING (device_id, ts, status) "
                "WHERE r.district = %s AND r.ts >= %s::timestamptz AND r.ts < %s::timestamptz + make_interval(secs => %s) "
                f"AND r.{metric} IS NOT NULL ORDER BY r.ts, r.device_id",
                (int(district), start, start, int(size_s))).fetchall()
            lines.append(f"window ({district}, {metric}, {size_s}, {start}): " + "; ".join(
                f"{d} #{seq} ts {ts:%H:%M:%S} rx {rx:%H:%M:%S.%f} x{n}" + (f" LATE by {by:.0f}s @{off}" if by is not None else "")
                for d, seq, ts, rx, n, by, off in rows))
    return f"late_readings holds {late} rows; " + " | ".join(lines)
