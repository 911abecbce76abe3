"""The sink under bad records and outages, against the real Kafka and TimescaleDB: records the
database refuses are quarantined and the rest stored; a stop during an outage exits at once with
nothing committed; the loop holds a bounded number of tasks and bounded memory."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.integration.helpers import free_port, http_get, metric_value, wait_for
from tests.integration.storage.test_sink import reading

pytestmark = pytest.mark.integration


def count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


async def test_records_the_database_refuses_are_quarantined_and_the_rest_stored(sink_env):
    env = sink_env
    good = [reading(i) for i in range(300)]
    nul = [dict(reading(1000 + i), kind="air\u0000quality") for i in range(2)]  # PostgreSQL text holds no NUL
    messages: list = good[:100] + [nul[0]] + good[100:200] + [b"{not json"] + good[200:] + [nul[1]]
    sent = await env.produce(env.topics.readings, messages)
    bad_offsets = {sent[i].offset for i, m in enumerate(messages) if isinstance(m, bytes) or m in nul}
    proc, port = env.start()
    await env.settled([env.topics.readings])
    with psycopg.connect(env.dsn) as conn:
        rows = conn.execute("SELECT topic, kafka_offset, target_table, device_id, sqlstate, error FROM quarantine "
                            "ORDER BY kafka_offset").fetchall()
        stored = conn.execute("SELECT count(DISTINCT seq), min(seq), max(seq) FROM readings").fetchone()
    assert {r[1] for r in rows} == bad_offsets and {r[0] for r in rows} == {env.topics.readings}
    assert stored == (300, 0, 299)
    by_error = {r[4]: r for r in rows}
    assert by_error["22021"][3] == "aq-288-01" and "0x00" in by_error["22021"][5]  # invalid byte sequence
    assert [r for r in rows if r[4] is None][0][5].startswith("JSONDecodeError")
    assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    # The operator sees them: `citysense audit` and `citysense query quarantine`.
    env_vars = {**os.environ, "CITYSENSE_DATABASE_URL": env.dsn}
    audit = json.loads(subprocess.run([sys.executable, "-m", "cli.main", "audit", "--since", "3650d", "--json"],
                                      capture_output=True, text=True, env=env_vars, timeout=60, check=True).stdout)
    assert {d["device_id"]: d["quarantined"] for d in audit if d["quarantined"]} == {"aq-288-01": 2,
                                                                                "(unknown device)": 1}
    listed = json.loads(subprocess.run([sys.executable, "-m", "cli.main", "query", "quarantine", "--json"],
                                       capture_output=True, text=True, env=env_vars, timeout=60, check=True).stdout)
    assert {r["kafka_offset"] for r in listed} == bad_offsets
    # Delivered again (a new consumer group reads the topic from the start): nothing more is stored.
    assert proc.stop() == 0
    proc, port = env.start("sink2", CITYSENSE_STORAGE_GROUP_ID=f"sink-again-{env.unique}")
    await env.settled([env.topics.readings], group=f"sink-again-{env.unique}")
    assert (count(env.dsn, "readings"), count(env.dsn, "quarantine")) == (300, 3)
    assert proc.stop() == 0


async def test_stop_during_an_outage_exits_at_once_and_commits_nothing(sink_env):
    env = sink_env
    await env.produce(env.topics.readings, [reading(i) for i in range(10)])
    nowhere = f"postgresql://citysense_sink:x@127.0.0.1:{free_port()}/nothing"  # no server listens there
    proc, port = env.start(CITYSENSE_STORAGE_SINK_DATABASE_URL=nowhere, CITYSENSE_STORAGE_RETRY_BACKOFF_MAX_S="30")
    wait_for(lambda: "unavailable" in proc.log_file.read_text(), 60, what="the sink saw the outage")
    time.sleep(2)  # into its backoff
    asked = time.monotonic()
    proc.signal(15)
    proc.proc.wait(15)
    took = time.monotonic() - asked
    assert proc.proc.returncode == 0, proc.tail()
    assert took < 5, f"the sink took {took:.1f} s to stop during an outage"
    consumer = AIOKafkaConsumer(bootstrap_servers=env.kafka, group_id=f"sink-{env.unique}", enable_auto_commit=False)
    await consumer.start()
    try:
        committed = [await consumer.committed(TopicPartition(env.topics.readings, p)) for p in range(12)]
    finally:
        await consumer.stop()
    assert [c for c in committed if c] == [], "offsets were committed for a batch that was never stored"


async def test_the_loop_holds_bounded_tasks_and_memory_idle_and_busy(sink_env):
    env = sink_env
    proc, port = env.start(CITYSENSE_STORAGE_POLL_IDLE_MS="2", CITYSENSE_STORAGE_BATCH_ROWS="20",
                           CITYSENSE_STORAGE_BATCH_MS="5", CITYSENSE_STORAGE_RETENTION_INTERVAL_S="1")

    def gauge(name: str) -> float:
        return metric_value(http_get(f"http://127.0.0.1:{port}/metrics")[1], name)

    def polls() -> float:
        return gauge("citysense_sink_polls_total")

    wait_for(lambda: polls() >= 200, 60, what="the idle loop turning")
    tasks_start, rss_start = gauge("citysense_sink_asyncio_tasks"), proc.rss_mb()
    wait_for(lambda: polls() >= 3000, 120, what="3,000 idle iterations")
    idle_tasks, idle_rss = gauge("citysense_sink_asyncio_tasks"), proc.rss_mb()
    busy_from = polls()
    total = 40_000
    await env.produce(env.topics.readings, [reading(i) for i in range(total)])
    wait_for(lambda: count(env.dsn, "readings") == total, 180, what=f"{total} readings stored")
    busy_iterations = polls() - busy_from
    busy_tasks, busy_rss = gauge("citysense_sink_asyncio_tasks"), proc.rss_mb()
    print(f"\nsink: tasks {tasks_start:.0f} -> {idle_tasks:.0f} (idle, 2,800 iterations) -> {busy_tasks:.0f} "
          f"(busy, {busy_iterations:.0f} iterations); RSS {rss_start:.0f} -> {idle_rss:.0f} -> {busy_rss:.0f} MB")
    assert busy_iterations >= 1500
    assert idle_tasks <= tasks_start + 2 and busy_tasks <= tasks_start + 2, "tasks pile up in the sink's loop"
    assert idle_rss - rss_start < 15, "the idle sink's memory grows"
    assert busy_rss - rss_start < 60, "the busy sink's memory grows"
    assert proc.stop() == 0
    await asyncio.sleep(0)
