"""A live-events client's Kafka lag: records past its positions, per kind, from the consumer's
highwater marks; and the gauge reports the client furthest behind."""

from __future__ import annotations

from aiokafka.structs import TopicPartition

from api.access import ApiMetrics
from api.events import Feed


class FakeConsumer:
    def __init__(self, highwater: dict[TopicPartition, int | None]) -> None:
        self.marks = highwater

    def assignment(self) -> set[TopicPartition]:
        return set(self.marks)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.marks[tp]


def feed(positions: dict[str, dict[int, int]], highwater: dict[TopicPartition, int | None]) -> Feed:
    f = Feed({}, {"alert": "p.alerts", "aqi": "p.aqi"}, {"alert", "aqi"}, None, 10)
    f.positions, f.consumer = positions, FakeConsumer(highwater)
    return f


def test_lag_sums_partitions_per_kind_and_ignores_unknown_highwater():
    f = feed({"alert": {0: 5, 1: 7}, "aqi": {0: 3}},
             {TopicPartition("p.alerts", 0): 9, TopicPartition("p.alerts", 1): 7, TopicPartition("p.aqi", 0): None})
    assert f.lag() == {"alert": 4, "aqi": 0}


def test_the_gauge_shows_the_client_furthest_behind():
    metrics = ApiMetrics()
    behind = feed({"alert": {0: 1}}, {TopicPartition("p.alerts", 0): 31})
    current = feed({"alert": {0: 30}}, {TopicPartition("p.alerts", 0): 31})
    for f in (behind, current):
        metrics.feeds.add(f)
    metrics.observe_feeds(("alert", "aqi"))
    assert metrics.registry.get_sample_value("citysense_api_sse_kafka_lag_messages", {"kind": "alert"}) == 30
    assert metrics.registry.get_sample_value("citysense_api_sse_kafka_lag_messages", {"kind": "aqi"}) == 0
    metrics.feeds.clear()
    metrics.observe_feeds(("alert",))
    assert metrics.registry.get_sample_value("citysense_api_sse_kafka_lag_messages", {"kind": "alert"}) == 0
