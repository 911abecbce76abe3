"""The sink: every platform topic from Kafka into TimescaleDB, idempotently, in batches.

Loop: poll until `batch_rows` records or `batch_ms` since the first -> convert -> one database
transaction (COPY to staging + INSERT … ON CONFLICT per table; readings COPYed straight in unless
that meets a stored row) -> commit the Kafka offsets; the next batch is polled and converted while
the database writes this one. Offsets
are committed only after the database committed, and every table has a unique key on what a record
is, so a second delivery is harmless: a crash anywhere means records are delivered again and stored
once.

- PostgreSQL down or restarting (a transient error): the same batch is retried with backoff until
  it commits; a stop request ends the wait at once, with the offsets not committed.
- A batch the database refuses for a data error: split to find the records at fault, which go to
  the `quarantine` table with the error and their Kafka coordinates; the rest is stored
  (storage/quarantine.py). A record that cannot be read at all is quarantined the same way.
- The consumer loop and the retention job run in one task group: if either dies, the sink stops
  and exits non-zero (a supervisor restarts it) instead of running half-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from runtime.http import OpsServer
from runtime.kafka_topics import ensure_topics
from runtime.retry import Backoff
from storage import rows as R
from storage.metrics import SinkMetrics
from storage.quarantine import Rows, is_data_error, is_transient, isolate, quarantine_row, store_quarantined
from storage.retention import run_retention
from storage.settings import StorageSettings
from storage.writer import BatchWriter
from telemetry.secrets import redact_dsn
from telemetry.topics import KafkaTopics

logger = logging.getLogger(__name__)

_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class Stopped(Exception):
    """A stop was requested while a batch waited for the database: its offsets stay uncommitted."""


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
            t.device_health: (R.DEVICE_HEALTH, lambda m, p, o: R.device_health_row(m)),
        }
        self.writer = BatchWriter(settings.sink_dsn, [spec for spec, _ in self.routes.values()])
        self.consumer: AIOKafkaConsumer | None = None
        self.db_ok = False
        self._db_state_logged = False
        self.last_batch_at = 0.0

    def convert(self, batch: dict[TopicPartition, list]) -> tuple[Rows, list[tuple], dict[TopicPartition, int]]:
        """Rows per table with their origins, quarantine rows of unreadable records, next offsets."""
        rows: Rows = defaultdict(list)
        unreadable: list[tuple] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            spec, convert = self.routes[tp.topic]
            try:  # the whole partition's records at once; one unreadable record: one at a time
                rows[spec] += [(convert(R.decode(rec.value), tp.partition, rec.offset), rec) for rec in records]
            except _UNREADABLE:
                self._convert_each(tp, spec, convert, records, rows, unreadable)
            self.metrics.records.labels(tp.topic).inc(len(records))
            offsets[tp] = records[-1].offset + 1
        return rows, unreadable, offsets

    def _convert_each(self, tp: TopicPartition, spec, convert, records: list, rows: Rows,
                      unreadable: list[tuple]) -> None:
        for rec in records:
            try:
                rows[spec].append((convert(R.decode(rec.value), tp.partition, rec.offset), rec))
            except _UNREADABLE as exc:
                self.metrics.unparseable.labels(tp.topic).inc()
                logger.error("record %s[%d]@%d could not be read (%s); quarantined", tp.topic, tp.partition,
                             rec.offset, exc)
                unreadable.append(quarantine_row(rec, spec.table, exc))

    async def _poll(self) -> dict[TopicPartition, list]:
        """Up to batch_rows records, waiting at most batch_ms after the first one (poll_idle_ms when idle)."""
        s = self.settings
        batch: dict[TopicPartition, list] = defaultdict(list)
        count, deadline = 0, None
        while count < s.batch_rows:
            timeout = s.poll_idle_ms if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            got = await self.consumer.getmany(timeout_ms=timeout, max_records=s.batch_rows - count)
            for tp, records in got.items():
                batch[tp] += records
                count += len(records)
            if count and deadline is None:
                deadline = time.monotonic() + s.batch_ms / 1000
            if deadline is None or time.monotonic() >= deadline:
                break
        return batch

    async def _write(self, rows: Rows, unreadable: list[tuple]) -> dict[str, int]:
        """One attempt: the whole batch in one transaction; on a data error, split and quarantine."""
        try:
            written = await self.writer.write({spec: [row for row, _ in items] for spec, items in rows.items()})
            bad: list[tuple] = []
        except Exception as exc:  # noqa: BLE001 - classified; anything else propagates
            if not is_data_error(exc):
                raise
            logger.warning("the database refused a batch (%s: %s); storing its records table by table to find "
                           "the ones at fault", type(exc).__name__, str(exc).strip()[:200])
            written, bad = {}, []
            for spec, items in rows.items():
                await isolate(self.writer.write, spec, items, written, bad)
        bad += unreadable
        if bad:
            written["quarantine"] = await store_quarantined(await self.writer.connection(), bad)
            self.metrics.quarantined.inc(len(bad))
            for row in bad:
                logger.error("quarantined %s[%d]@%d for table %s: %s", row[0], row[1], row[2], row[3], row[6][:300])
        return written

    async def _write_until_committed(self, rows: Rows, unreadable: list[tuple], stop: asyncio.Event) -> dict[str, int]:
        backoff = Backoff(0.5, self.settings.retry_backoff_max_s)
        while True:
            started = time.monotonic()
            try:
                written = await self._write(rows, unreadable)
            except Exception as exc:  # noqa: BLE001 - transient and schema errors are retried, others raise
                if is_transient(exc):
                    self._database_down(exc)
                elif isinstance(exc, psycopg.Error):
                    logger.error("PostgreSQL at %s refused the sink's statements (%s: %s): the schema or the grants "
                                 "are not what the sink needs; run `citysense db migrate` as the owner (log "
                                 ".stack/logs/postgres.log). Retrying, Kafka offsets not committed",
                                 redact_dsn(self.settings.sink_dsn), type(exc).__name__, str(exc).strip()[:200])
                else:
                    raise
                self.db_ok = False
                self.metrics.db_up.set(0)
                self.metrics.retries.inc()
                await self.writer.close()
                if not await backoff.wait(stop):
                    raise Stopped() from exc
                continue
            self.metrics.batch_seconds.observe(time.monotonic() - started)
            if not self.db_ok:
                logger.info("PostgreSQL at %s is writable", redact_dsn(self.settings.sink_dsn))
                self._db_state_logged = True
            self.db_ok = True
            self.metrics.db_up.set(1)
            return written

    def _database_down(self, exc: BaseException) -> None:
        if self.db_ok or not self._db_state_logged:
            self._db_state_logged = True
            logger.error("PostgreSQL at %s unavailable (%s); retrying the batch, Kafka offsets not committed",
                         redact_dsn(self.settings.sink_dsn), str(exc).strip()[:200])

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
            await ensure_topics(s.kafka_bootstrap_servers, self.topics.partitions(), **s.kafka_topic_defaults(),
                                **s.kafka_client_options())
            self.consumer = AIOKafkaConsumer(
                *self.routes, bootstrap_servers=s.kafka_bootstrap_servers, group_id=s.group_id,
                client_id=s.client_id, enable_auto_commit=False, auto_offset_reset="earliest",
                max_poll_interval_ms=600_000, fetch_max_bytes=16 * 1024 * 1024, fetch_min_bytes=s.fetch_min_bytes,
                fetch_max_wait_ms=s.fetch_max_wait_ms, **s.kafka_client_options(),
            )
            await self.consumer.start()
            try:
                async with asyncio.TaskGroup() as group:
                    retention = group.create_task(self._retention_loop(), name="sink-retention")
                    await self._consume(stop)
                    retention.cancel()
            finally:
                await self.consumer.stop()
                await self.writer.close()
                logger.info("sink stopped")

    async def _next_batch(self) -> tuple[Rows, list[tuple], dict[TopicPartition, int]] | None:
        batch = await self._poll()
        self.metrics.polls.inc()
        return self.convert(batch) if batch else None

    async def _consume(self, stop: asyncio.Event) -> None:
        """Batches in order; the next one is polled and converted while this one is written (the
        database works on the batch while the sink decodes the next). Offsets are committed batch by
        batch, each after its transaction; a polled batch not yet written is simply delivered again."""
        ahead = asyncio.create_task(self._next_batch(), name="sink-poll")
        try:
            while not stop.is_set():
                batch = await ahead
                ahead = asyncio.create_task(self._next_batch(), name="sink-poll")
                self.metrics.tasks.set(len(asyncio.all_tasks()))
                if batch is None:
                    continue
                rows, unreadable, offsets = batch
                try:
                    written = await self._write_until_committed(rows, unreadable, stop)
                except Stopped:
                    logger.info("stopping while PostgreSQL was unavailable: the batch's offsets are not committed "
                                "(it is delivered again on restart)")
                    return
                try:
                    await self.consumer.commit(offsets)
                except (CommitFailedError, KafkaError) as exc:
                    logger.warning("Kafka offsets not committed (%s): the batch will be delivered again and stored "
                                   "once", exc)
                for table, n in written.items():
                    self.metrics.rows.labels(table).inc(n)
                self.metrics.batches.inc()
                self.last_batch_at = time.monotonic()
                await self._update_lag()
        finally:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ahead

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
