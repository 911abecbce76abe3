"""The sink: every platform topic from Kafka into TimescaleDB, idempotently, in batches.

Loop: poll until `batch_rows` records or `batch_ms` since the first -> convert -> one database
transaction (COPY to staging + INSERT … ON CONFLICT per table) -> commit the Kafka offsets. Offsets
are committed only after the database committed, and every table has a unique key that makes a
second delivery harmless: a crash anywhere means records are delivered again and stored once.
PostgreSQL down or restarting: the same batch is retried with backoff until it commits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from runtime.http import OpsServer
from runtime.kafka_topics import ensure_topics
from storage import rows as R
from storage.metrics import SinkMetrics
from storage.retention import run_retention
from storage.settings import StorageSettings
from storage.writer import BatchWriter
from telemetry.secrets import redact_dsn
from telemetry.topics import KafkaTopics

logger = logging.getLogger(__name__)


class Sink:
    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        self.topics = KafkaTopics(settings.topic_prefix)
        self.metrics = SinkMetrics()
        t = self.topics
        # topic -> (table, converter taking (message, partition, offset))
        self.routes = {
            t.readings: (R.READINGS, lambda m, p, o: R.reading_row(m)),
            t.aggregates: (R.AGGREGATES, lambda m, p, o: R.aggregate_row(m)),
            t.aqi: (R.AQI, lambda m, p, o: R.aqi_row(m)),
            t.alerts: (R.ALERTS, lambda m, p, o: R.alert_row(m)),
            t.late: (R.LATE, R.late_row),
            t.deadletter: (R.DEADLETTERS, R.deadletter_row),
            t.security_events: (R.SECURITY, R.security_row),
        }
        self.writer = BatchWriter(settings.sink_dsn, [spec for spec, _ in self.routes.values()])
        self.consumer: AIOKafkaConsumer | None = None
        self.db_ok = False
        self._db_state_logged = False
        self.last_batch_at = 0.0

    def convert(self, batch: dict[TopicPartition, list]) -> tuple[dict, dict[TopicPartition, int]]:
        rows: dict[R.TableSpec, list[tuple]] = defaultdict(list)
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            spec, convert = self.routes[tp.topic]
            for rec in records:
                try:
                    rows[spec].append(convert(R.decode(rec.value), tp.partition, rec.offset))
                except (ValueError, KeyError, TypeError) as exc:
                    self.metrics.unparseable.labels(tp.topic).inc()
                    logger.error("record %s[%d]@%d could not be read (%s); skipped", tp.topic, tp.partition,
                                 rec.offset, exc)
            self.metrics.records.labels(tp.topic).inc(len(records))
            offsets[tp] = records[-1].offset + 1
        return rows, offsets

    async def _poll(self) -> dict[TopicPartition, list]:
        """Up to batch_rows records, waiting at most batch_ms after the first one."""
        s = self.settings
        batch: dict[TopicPartition, list] = defaultdict(list)
        count, deadline = 0, None
        while count < s.batch_rows:
            timeout = 1000 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            got = await self.consumer.getmany(timeout_ms=timeout, max_records=s.batch_rows - count)
            for tp, records in got.items():
                batch[tp] += records
                count += len(records)
            if count and deadline is None:
                deadline = time.monotonic() + s.batch_ms / 1000
            if deadline is None or time.monotonic() >= deadline:
                break
        return batch

    async def _write_until_committed(self, rows: dict) -> dict[str, int]:
        backoff = 0.5
        while True:
            started = time.monotonic()
            try:
                written = await self.writer.write(rows)
                self.metrics.batch_seconds.observe(time.monotonic() - started)
                if not self.db_ok:
                    logger.info("PostgreSQL at %s is writable", redact_dsn(self.settings.sink_dsn))
                    self._db_state_logged = True
                self.db_ok = True
                self.metrics.db_up.set(1)
                return written
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if self.db_ok or not self._db_state_logged:
                    self._db_state_logged = True
                    logger.error("PostgreSQL at %s unavailable (%s); retrying the batch, Kafka offsets not "
                                 "committed", redact_dsn(self.settings.sink_dsn), str(exc).strip()[:200])
                self.db_ok = False
                self.metrics.db_up.set(0)
                self.metrics.retries.inc()
                await self.writer.close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)

    async def _update_lag(self) -> None:
        lag: dict[str, int] = defaultdict(int)
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is not None:
                lag[tp.topic] += max(0, high - await self.consumer.position(tp))
        for topic, value in lag.items():
            self.metrics.lag.labels(topic).set(value)

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        async with OpsServer(s.metrics_host, s.metrics_port, self.metrics.registry, self.health):
            await ensure_topics(s.kafka_bootstrap_servers, self.topics.partitions(), **s.kafka_client_options())
            self.consumer = AIOKafkaConsumer(
                *self.routes, bootstrap_servers=s.kafka_bootstrap_servers, group_id=s.group_id,
                client_id=s.client_id, enable_auto_commit=False, auto_offset_reset="earliest",
                max_poll_interval_ms=600_000, fetch_max_bytes=16 * 1024 * 1024, **s.kafka_client_options(),
            )
            await self.consumer.start()
            retention = asyncio.create_task(self._retention_loop())
            try:
                while not stop.is_set():
                    poll = asyncio.create_task(self._poll())
                    done, _ = await asyncio.wait({poll, asyncio.create_task(stop.wait())},
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if poll not in done:
                        poll.cancel()
                        break
                    batch = poll.result()
                    if not batch:
                        continue
                    rows, offsets = self.convert(batch)
                    written = await self._write_until_committed(rows)
                    try:
                        await self.consumer.commit(offsets)
                    except (CommitFailedError, KafkaError) as exc:
                        logger.warning("Kafka offsets not committed (%s): the batch will be delivered again and "
                                       "stored once", exc)
                    for table, n in written.items():
                        self.metrics.rows.labels(table).inc(n)
                    self.metrics.batches.inc()
                    self.last_batch_at = time.monotonic()
                    await self._update_lag()
            finally:
                retention.cancel()
                await self.consumer.stop()
                await self.writer.close()
                logger.info("sink stopped")

    async def _retention_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(run_retention, self.settings)
            except psycopg.Error as exc:
                logger.warning("retention job failed (%s); next try in %d s", exc, self.settings.retention_interval_s)
            await asyncio.sleep(self.settings.retention_interval_s)

    def health(self) -> dict:
        return {"ok": self.db_ok or self.last_batch_at == 0.0, "service": "sink", "database_writable": self.db_ok,
                "kafka_assigned_partitions": len(self.consumer.assignment()) if self.consumer else 0}
