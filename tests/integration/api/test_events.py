"""Live events over SSE from the real Kafka output topics: filtered by area and kind, each event
once, and a client that reconnects with the last id it got receives exactly what it missed."""

from __future__ import annotations

import asyncio
import threading

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from api.events import topics_of
from runtime.kafka_topics import ensure_topics

pytestmark = pytest.mark.integration


def alert(n: int, area: int) -> dict:
    return {"v": 2, "alert_id": f"live{n}", "district": area, "area": area, "level": "commune", "parent": 288,
            "rule": "aqi_bad", "subject": "aqi", "state": "open", "severity": "warning"}


def aggregate(n: int, area: int, window_s: int = 60) -> dict:
    return {"v": 2, "district": area, "area": area, "level": "commune", "parent": 288, "metric": "pm2_5",
            "window_s": window_s, "window_start": f"2026-12-03T00:{n:02d}:00Z", "count": n, "mean": 1.0}


async def produce(kafka: str, prefix: str, messages: list[tuple[str, dict]]) -> None:
    topics = topics_of(prefix)
    async with AIOKafkaProducer(bootstrap_servers=kafka, acks="all") as producer:
        for kind, body in messages:
            await producer.send_and_wait(topics[kind], orjson.dumps(body), key=str(body["area"]).encode())


class Listener:
    """An SSE client in a thread: (id, event, data) of each event, until `stop`."""

    def __init__(self, api, **params) -> None:
        self.events: list[tuple[str, str, dict]] = []
        self.connected = threading.Event()
        self.stopping = False
        headers = {"Authorization": f"Bearer {api.tokens['viewer']}"}
        if "last_event_id" in params:
            headers["Last-Event-ID"] = params.pop("last_event_id")
        self.args = (api.url + "/api/v1/events", params, headers)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.connected.wait(15), "the event stream did not open"

    def _run(self) -> None:
        url, params, headers = self.args
        with httpx.stream("GET", url, params=params, headers=headers, timeout=httpx.Timeout(5, read=None)) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            event: dict[str, str] = {}
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                if self.stopping:
                    return
                if not line:
                    if "data" in event:
                        self.events.append((event.get("id"), event.get("event"), orjson.loads(event["data"])))
                    event = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    event[name] = value

    def wait(self, n: int, timeout: float = 20) -> list[tuple[str, str, dict]]:
        for _ in range(int(timeout * 10)):
            if len(self.events) >= n:
                return self.events
            threading.Event().wait(0.1)
        raise AssertionError(f"{len(self.events)} events of {n}: {self.events}")


async def test_live_events_filtered_and_resumed_without_gaps_or_repeats(api, kafka_bootstrap):
    await ensure_topics(kafka_bootstrap, {t: 12 for t in topics_of(api.prefix).values()})
    listener = Listener(api, area=288, kind=["alert", "aggregate"])
    # 10507 is in group 288, 10546 (Chí Linh) is not; a 15-minute window and an AQI are filtered out
    await produce(kafka_bootstrap, api.prefix, [("alert", alert(1, 10507)), ("alert", alert(2, 10546)),
                                                 ("aggregate", aggregate(3, 10525)), ("aggregate", aggregate(4, 10507, 900)),
                                                 ("aqi", {"area": 10507, "aqi": 100}), ("alert", alert(5, 10525))])
    got = listener.wait(3)
    await asyncio.sleep(1)
    # (Kafka orders within a partition only: compared as a set, and counted)
    assert sorted((e, str(d.get("alert_id") or d["count"])) for _, e, d in got) == [("aggregate", "3"), ("alert", "live1"),
                                                                                   ("alert", "live5")]
    assert len(listener.events) == 3
    last_id = got[-1][0]
    listener.stopping = True
    # missed while away, then a reconnect from the last id: exactly these, once each
    await produce(kafka_bootstrap, api.prefix, [("alert", alert(6, 10507)), ("aggregate", aggregate(7, 10507)),
                                                 ("alert", alert(8, 10546))])
    resumed = Listener(api, area=288, kind=["alert", "aggregate"], last_event_id=last_id)
    await produce(kafka_bootstrap, api.prefix, [("alert", alert(9, 10532))])
    again = resumed.wait(3)
    await asyncio.sleep(1)
    names = sorted(str(d.get("alert_id") or d["count"]) for _, _, d in again)
    assert names == ["7", "live6", "live9"] and len(resumed.events) == 3
    resumed.stopping = True
    # a stream from now on sees none of the earlier ones
    fresh = Listener(api)
    await produce(kafka_bootstrap, api.prefix, [("aqi", {"area": 31, "aqi": 150, "level": "city"})])
    assert [(e, d["aqi"]) for _, e, d in fresh.wait(1)] == [("aqi", 150)]
    fresh.stopping = True


def test_a_bad_last_event_id_or_kind_is_a_400(api):
    headers = {"Authorization": f"Bearer {api.tokens['viewer']}", "Last-Event-ID": "nonsense"}
    r = httpx.get(api.url + "/api/v1/events", headers=headers, timeout=10)
    assert r.status_code == 400 and r.json()["errors"][0]["name"] == "Last-Event-ID"
    r = api.get("/api/v1/events", kind="weather")
    assert r.status_code == 400 and r.json()["errors"][0]["name"] == "kind"
    assert api.get("/api/v1/events", role=None).status_code == 401
