"""Group and city roll-ups from the partials of their child areas (pure logic: no Faust, no I/O).

A parent area (a group, the city) keeps, per window and per hourly or daily AQI, one partial per
child area (streams/partials.py). Whenever a child's partial is new, the parent's result is merged
again from all of them — window aggregates with `aggregation.merge` (sums, energy sums, vector
sums, vehicle-weighted sums: never a mean of means), AQI as that of the worst child, naming its
commune — and emitted on the output topics with `areas`, the number of children it holds, and sent
on as a partial to the parent's own parent. So a roll-up is refined as its children's windows
close; each version holds more readings than the one before, and storage keeps the fullest
(docs/streams.md). A replayed partial changes nothing and emits nothing.

State, one record per key in the roll-up state topic (only the changed keys are written):
`<parent>|w|<metric>|<size>|<start>` (window), `<parent>|a|<period>|<start>` (AQI),
`<parent>|clock`. A parent forgets a window `idle_s` of wall-clock time after the last partial for it
arrived — not by event time: in a backlog the communes of a group run hours apart in event time,
yet all arrive within minutes — so the state holds about `idle_s` of windows. A partial for a
window already forgotten (its end at or before the latest forgotten end, and no state for it) is
counted as late and not rolled up.
"""

from __future__ import annotations

import time
from collections import defaultdict
from functools import reduce

from streams import aggregation, messages, partials
from streams.places import Places
from streams.processor import BatchOutcome
from streams.windows import ClosedWindow
from telemetry.topics import KafkaTopics, district_key

PERIOD_S = {"hour": 3600, "day": 86400}


class RollupProcessor:
    def __init__(self, topics: KafkaTopics, places: Places, idle_s: float = 3600.0) -> None:
        self.topics, self.places, self.idle_ms = topics, places, int(idle_s * 1000)

    def process(self, batch: list[tuple[int, int, bytes, bytes]], states: dict[bytes, dict | None],
                now_ms: int | None = None) -> BatchOutcome:
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        out = BatchOutcome()
        by_parent: dict[int, list[tuple[int, int, dict]]] = defaultdict(list)
        for partition, offset, _key, value in batch:
            p = partials.decode(value)
            if p is None:
                out.counts["undecodable_partials"] += 1
                continue
            by_parent[int(p["parent"])].append((partition, offset, p))
        for parent, items in by_parent.items():
            self._parent(parent, items[-1][0], sorted(items, key=lambda i: i[1]), states, out, now_ms)
        return out

    def _parent(self, parent: int, partition: int, items: list[tuple[int, int, dict]], states: dict,
                out: BatchOutcome, now_ms: int) -> None:
        clock_key = f"{parent}|clock".encode()
        clock = states.get(clock_key) or {"forgotten_end_ms": None}
        changed: list[bytes] = []
        for _, _, p in items:
            if p["kind"] == "window":
                end = p["start_ms"] + p["window_s"] * 1000
                key = f"{parent}|w|{p['metric']}|{p['window_s']}|{p['start_ms']}".encode()
                entry = [p["agg"], p["excluded"]]
            else:
                end = p["end_ms"]
                key = f"{parent}|a|{p['period']}|{p['start_ms']}".encode()
                entry = p["result"]
            st = states.get(key)
            if st is None:
                forgotten = clock.get("forgotten_end_ms")
                if forgotten is not None and end <= forgotten:
                    out.counts["rollup_late_partials"] += 1
                    continue
                st = states[key] = {"children": {}, "sent": None, "end_ms": end}
            child = str(p["area"])
            if st["children"].get(child) != entry:
                st["children"][child] = entry
                st["touched_ms"] = now_ms
                if key not in changed:
                    changed.append(key)
        for key in changed:
            self._emit(parent, key.decode(), states[key], out)
            out.states[key], out.partitions[key] = states[key], partition
        prefix = f"{parent}|".encode()
        for key in [k for k in states if k.startswith(prefix) and k != clock_key]:
            st = states[key]
            if st is not None and now_ms - st.get("touched_ms", now_ms) >= self.idle_ms:
                states[key] = None  # a tombstone in the state topic
                out.states[key], out.partitions[key] = None, partition
                out.counts["rollup_windows_forgotten"] += 1
                if clock.get("forgotten_end_ms") is None or st["end_ms"] > clock["forgotten_end_ms"]:
                    clock["forgotten_end_ms"] = st["end_ms"]
        states[clock_key] = out.states[clock_key] = clock
        out.partitions[clock_key] = partition

    def _emit(self, parent: int, key: str, st: dict, out: BatchOutcome) -> None:
        place, grandparent = self.places.of(parent), self.places.parent(parent)
        children = sorted(st["children"].items(), key=lambda kv: int(kv[0]))  # the same float sums on a replay
        if key.split("|")[1] == "w":
            _, _, metric, size, start = key.split("|")
            agg = reduce(aggregation.merge, [c[0] for _, c in children], aggregation.new())
            excluded = sum(c[1] for _, c in children)
            signature = [agg["n"] + excluded, len(children)]
            if signature == st["sent"]:
                return
            w = ClosedWindow(parent, metric, int(size), int(start), agg, excluded)
            out.outputs.append((self.topics.aggregates, district_key(parent), messages.aggregate(w, place,
                                                                                                 len(children))))
            if grandparent is not None:
                out.outputs.append((self.topics.partials, district_key(grandparent),
                                    partials.window(parent, grandparent, w)))
            out.counts["rollup_windows"] += 1
        else:
            _, _, period, start = key.split("|")
            _, worst = max(children, key=lambda kv: (kv[1]["aqi"], -int(kv[1]["worst_area"])))
            result = {**worst, "areas": len(children)}
            signature = [worst["aqi"], worst["worst_area"], len(children)]
            if signature == st["sent"]:
                return
            out.outputs.append((self.topics.aqi, district_key(parent),
                                messages.aqi(place, period, int(start), st["end_ms"], result)))
            if grandparent is not None:
                out.outputs.append((self.topics.partials, district_key(grandparent),
                                    partials.aqi(parent, grandparent, period, int(start), st["end_ms"], result)))
            out.counts["rollup_aqi"] += 1
        st["sent"] = signature
