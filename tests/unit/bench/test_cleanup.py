"""Which topics the benchmark cleanup deletes: those the bench modules name, never the platform's,
the tests' or Kafka's own."""

import pytest

from bench.cleanup import bench_topics

pytestmark = pytest.mark.unit


def test_only_benchmark_topics_are_chosen():
    made = ["bench1a2b3c4d.readings.v1", "bench-1a2b3c4d", "bench-raw-1a2b3c4d", "benchsink1a2b3c4d.aqi.v1",
            "bench-streams-1a2b3c4d-__assignor-__leader", "e2ebench1a2b3c4d.alerts.v1", "ingest1a2b3c4d.readings.v1"]
    kept = ["citysense.readings.v1", "__consumer_offsets", "test1a2b3c4d.readings.v1", "benchmark.readings.v1",
            "ingest.readings.v1", "bench1a2b3c.readings.v1", "my-bench1a2b3c4d.readings.v1"]
    assert bench_topics(made + kept) == made
