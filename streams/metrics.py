"""Prometheus metrics of one streams worker (its own registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class StreamsMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.events = Counter("citysense_streams_readings", "readings processed", registry=r)
        self.partials = Counter("citysense_streams_partials", "roll-up partials processed", registry=r)
        self.counts = Counter("citysense_streams_outcomes", "outcomes of processing", ["what"], registry=r)
        self.outputs = Counter("citysense_streams_outputs", "messages published", ["topic"], registry=r)
        self.batch_seconds = Histogram("citysense_streams_batch_seconds", "time to process and publish a batch",
                                       ["stage"],
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=r)
