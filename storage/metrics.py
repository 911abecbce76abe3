"""Prometheus metrics of the sink (its own registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SinkMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.records = Counter("citysense_sink_records", "Kafka records consumed", ["topic"], registry=r)
        self.rows = Counter("citysense_sink_rows_written", "rows inserted or changed", ["table"], registry=r)
        self.batches = Counter("citysense_sink_batches", "batches committed", registry=r)
        self.unparseable = Counter("citysense_sink_unparseable_records", "records that could not be read",
                                   ["topic"], registry=r)
        self.batch_seconds = Histogram("citysense_sink_batch_seconds", "database transaction of a batch",
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r)
        self.lag = Gauge("citysense_sink_consumer_lag", "records behind the end of the topic", ["topic"], registry=r)
        self.db_up = Gauge("citysense_sink_database_up", "1 when the last write succeeded", registry=r)
        self.quarantined = Counter("citysense_sink_quarantined", "records the database refused, kept in the "
                                   "quarantine table", registry=r)
        self.polls = Counter("citysense_sink_polls", "iterations of the consumer loop", registry=r)
        self.tasks = Gauge("citysense_sink_asyncio_tasks", "live asyncio tasks of the process", registry=r)
        self.retries = Counter("citysense_sink_retries", "batch writes retried after a database error", registry=r)
