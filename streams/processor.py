"""One batch of readings through the windows, VN_AQI and the alert rules (no Faust, no I/O).

`Processor.process(batch, states)` takes records (partition, offset, key, value) and the current
state of each district they touch, and returns the output messages to publish and the new states
to store. Each closed window and each hourly or daily AQI of an area is also sent, as a mergeable
partial, to the area that rolls it up (streams/partials.py, streams/rollup.py). The Faust agent (streams/app.py) publishes the outputs, waits for Kafka's acks, and only
then stores the states: a crash in between replays the batch, which re-emits identical messages
(storage keeps one) and never loses a window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from streams import aggregation, aqi_tracker, evaluate, messages, partials
from streams.alerts import encode, end_without_data, observe
from streams.places import Places
from streams.rules import Rules
from streams.windows import WindowConfig, apply, new_state, prune_devices, watermark_ms
from telemetry.devices import DeviceRegistry
from telemetry.metrics import POLLUTANTS
from telemetry.topics import KafkaTopics, district_key

Output = tuple[str, bytes, bytes]  # topic, key, value


@dataclass
class BatchOutcome:
    outputs: list[Output] = field(default_factory=list)
    states: dict[bytes, dict] = field(default_factory=dict)
    partitions: dict[bytes, int] = field(default_factory=dict)  # Kafka partition of each district's readings
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def decode(value: bytes) -> dict | None:
    try:
        r = orjson.loads(value)
        r["ts_ms"] = _ms(r["ts"])
        r["received_ms"] = _ms(r["received_at"])
        return r
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


class Processor:
    def __init__(self, topics: KafkaTopics, cfg: WindowConfig, rules: Rules, registry: DeviceRegistry,
                 places: Places) -> None:
        self.topics, self.cfg, self.rules, self.registry, self.places = topics, cfg, rules, registry, places
        if 3600 not in cfg.sizes_s:
            raise ValueError("the hourly window (3600 s) is needed for VN_AQI")

    def process(self, batch: list[tuple[int, int, bytes, bytes]], states: dict[bytes, dict | None]) -> BatchOutcome:
        out = BatchOutcome()
        by_district: dict[bytes, list[tuple[int, dict]]] = defaultdict(list)
        for partition, offset, _key, value in batch:
            reading = decode(value)
            if reading is None:
                out.counts["undecodable"] += 1
                continue
            key = district_key(reading["district"])
            by_district[key].append((offset, reading))
            out.partitions[key] = partition
        for key, items in by_district.items():
            state = states.get(key) or new_state()
            district = items[0][1]["district"]
            self._district(state, district, sorted(items, key=lambda i: i[0]), out)
            out.states[key] = state
        return out

    def _emit(self, out: BatchOutcome, topic: str, district: int, value: bytes) -> None:
        out.outputs.append((topic, district_key(district), value))

    def _partial(self, out: BatchOutcome, district: int, value_of) -> None:
        """Send a partial to the area that rolls this one up, if there is one."""
        parent = self.places.parent(district)
        if parent is not None:
            out.outputs.append((self.topics.partials, district_key(parent), value_of(parent)))

    def _district(self, state: dict, district: int, items: list[tuple[int, dict]], out: BatchOutcome) -> None:
        place = self.places.of(district)
        res = apply(state, district, items, self.cfg)
        out.counts["applied"] += res.applied
        out.counts["replayed_skipped"] += res.skipped_replayed
        out.counts["duplicates_skipped"] += res.duplicates
        out.counts["excluded_not_measuring"] += res.excluded_not_measuring
        out.counts["late"] += len(res.late)
        for late in res.late:
            self._emit(out, self.topics.late, district, messages.late(place, late["reading"], late["watermark_ms"]))
        hours: dict[int, dict[str, float]] = defaultdict(dict)
        device_windows = []
        for w in res.closed:
            if w.device is not None:
                device_windows.append(w)
                continue
            self._emit(out, self.topics.aggregates, district, messages.aggregate(w, place))
            self._partial(out, district, lambda parent, w=w: partials.window(district, parent, w))
            out.counts["windows"] += 1
            if w.size_s == 3600 and w.metric in POLLUTANTS:
                mean = aggregation.mean(w.agg, w.metric)
                if mean is not None:
                    hours[w.start_ms][w.metric] = mean
        alerts = []
        for hour_start in sorted(hours):
            alerts += self._hour(state, district, hour_start, hours[hour_start], out)
        watermark = watermark_ms(state, self.cfg)
        self._days(state, district, watermark, out)
        gone = {d for d in state["devices"] if not self._active(d)}
        alerts += evaluate.device_observations(self.rules, self.registry, device_windows)
        alerts += evaluate.silent_observations(self.rules, state, watermark, gone)
        messages_out = []
        for obs in sorted(alerts, key=lambda o: (o.at_ms, o.rule, o.subject)):
            messages_out += observe(state, district, obs, self.rules.renotify_s)
        if watermark is not None:
            messages_out += end_without_data(state, district, watermark, self.rules.no_data_after_s, gone)
            out.counts["devices_pruned"] += prune_devices(state, self.cfg, watermark, gone)
        for message in messages_out:
            self._emit(out, self.topics.alerts, district, encode({**message, **place}))
            out.counts["alert_messages"] += 1

    def _active(self, device_id: str) -> bool:
        device = self.registry.get(device_id)
        return device is not None and device.status.value == "active"

    def _days(self, state: dict, district: int, watermark: int | None, out: BatchOutcome) -> None:
        """The daily AQI of every local day the watermark has passed since the last one, whichever of
        its hours had data (the decision's completeness rules decide whether there is a value)."""
        if watermark is None or not state.get("aqi_hours"):
            return
        done = state.get("daily_done_ms")
        ends = sorted({aqi_tracker.local_day_end(int(h)) for h in state["aqi_hours"]})
        for day_end in ends:
            if day_end > watermark or (done is not None and day_end <= done):
                continue
            daily = aqi_tracker.daily(state, day_end - aqi_tracker.HOUR_MS)
            if daily is not None:
                start = day_end - aqi_tracker.DAY_MS
                self._emit(out, self.topics.aqi, district,
                           messages.aqi(self.places.of(district), "day", start, day_end, daily))
                self._partial(out, district, lambda parent: partials.aqi(district, parent, "day", start, day_end,
                                                                         daily))
            state["daily_done_ms"] = day_end

    def _hour(self, state: dict, district: int, hour_start: int, means: dict[str, float], out: BatchOutcome) -> list:
        aqi_tracker.record_hour(state, hour_start, means)
        obs = []
        hourly = aqi_tracker.hourly(state, hour_start)
        if hourly is not None:
            end = hour_start + aqi_tracker.HOUR_MS
            self._emit(out, self.topics.aqi, district, messages.aqi(self.places.of(district), "hour", hour_start, end,
                                                                    hourly))
            self._partial(out, district, lambda parent: partials.aqi(district, parent, "hour", hour_start, end,
                                                                     hourly))
            obs.append(evaluate.aqi_observation(self.rules, hour_start, hourly["aqi"]))
        pm_24h = {pm: aqi_tracker.rolling_24h_mean(state, pm, hour_start) for pm in ("pm2_5", "pm10")}
        obs += evaluate.pollutant_observations(self.rules, hour_start, means, pm_24h)
        return obs
