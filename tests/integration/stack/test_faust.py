"""faust-streaming runs against the local Kafka: a worker consumes a test topic and produces to another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

APP = Path(__file__).with_name("faust_echo_app.py")


async def test_faust_worker_consumes_and_produces(kafka_bootstrap, unique, tmp_path):
    src, dst = f"test.faust.in.{unique}", f"test.faust.out.{unique}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(t, 1, 1) for t in (src, dst)])
    await admin.close()

    env = {**os.environ, "ECHO_APP_ID": f"test-faust-{unique}", "ECHO_BROKER": kafka_bootstrap,
           "ECHO_DATADIR": str(tmp_path / "faust"), "ECHO_IN": src, "ECHO_OUT": dst}
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, str(APP), "worker", "-l", "info"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        async with AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all") as producer:
            for n in range(10):
                await producer.send_and_wait(src, json.dumps({"n": n}).encode())
        consumer = AIOKafkaConsumer(dst, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                    group_id=f"test-faust-check-{unique}")
        await consumer.start()
        try:
            out = []
            for _ in range(12):  # up to 120 s: the worker's first rebalance takes a while
                for records in (await consumer.getmany(timeout_ms=10_000)).values():
                    out += [json.loads(r.value) for r in records]
                if len(out) >= 10 or worker.poll() is not None:
                    break
        finally:
            await consumer.stop()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    assert sorted((o["n"], o["doubled"]) for o in out) == [(n, 2 * n) for n in range(10)], (
        (tmp_path / "worker.log").read_text()[-3000:]
    )
