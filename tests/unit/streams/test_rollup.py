"""Group and city roll-ups from the communes' partials (streams/rollup.py), against values computed
by hand from the raw readings: counts and sums, the energy mean of noise, the vector mean of wind,
the vehicle-weighted speed, and AQI as the worst commune's. Replays and reordering change nothing."""

from __future__ import annotations

import math
import random
from pathlib import Path

import orjson
import pytest

from streams.places import Places
from streams.processor import Processor
from streams.rollup import RollupProcessor
from streams.rules import Rules
from streams.windows import WindowConfig
from telemetry.areas import AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.outputs import AggregateMessage, AqiMessage
from telemetry.schema import output_schemas
from telemetry.topics import KafkaTopics

from .readings import ms, r

TOPICS = KafkaTopics("t")
CFG = WindowConfig(sizes_s=(60, 3600), lateness_s=30)
PLACES = Places(AreaRegistry.named())
# Two communes of the former city of Hải Dương (group 288), one of Chí Linh (group 290).
A, B, C = 10507, 10525, 10546
REGISTRY = DeviceRegistry([
    Device(device_id="nz-a", district=A, kind="noise", zone="normal"),
    Device(device_id="nz-b", district=B, kind="noise", zone="normal"),
    Device(device_id="ws-a", district=A, kind="weather"), Device(device_id="ws-c", district=C, kind="weather"),
    Device(device_id="tf-a", district=A, kind="traffic"), Device(device_id="tf-b", district=B, kind="traffic"),
    Device(device_id="aq-a", district=A, kind="air_quality"), Device(device_id="aq-b", district=B, kind="air_quality"),
    Device(device_id="aq-c", district=C, kind="air_quality"),
])


def encode(reading: dict) -> bytes:
    return orjson.dumps({k: v for k, v in reading.items() if k not in ("ts_ms", "received_ms")})


def communes(readings: list[dict]) -> list[tuple[str, bytes, bytes]]:
    """The commune stage over the readings (one partition per commune); its outputs."""
    proc, states, outputs = Processor(TOPICS, CFG, Rules(), REGISTRY, PLACES), {}, []
    for district in (A, B, C):
        mine = [x for x in readings if x["district"] == district]
        out = proc.process([(0, i, str(district).encode(), encode(x)) for i, x in enumerate(mine)], states)
        states.update(out.states)
        outputs += out.outputs
    return outputs


def roll_up(outputs, batches: int = 1, seed: int = 0, rollups: RollupProcessor | None = None, states=None):
    """Feed the partials (and the partials the roll-ups send on) through the roll-up stage until
    none is left; returns every aggregate and AQI message of a group or the city, in order."""
    rollups = rollups or RollupProcessor(TOPICS, PLACES)
    states = {} if states is None else states
    rng, emitted, offset = random.Random(seed), [], 0
    pending = [(k, v) for t, k, v in outputs if t == TOPICS.partials]
    while pending:
        rng.shuffle(pending)
        size = max(1, len(pending) // batches)
        chunk, pending = pending[:size], pending[size:]
        out = rollups.process([(0, offset + i, k, v) for i, (k, v) in enumerate(chunk)], states)
        offset += len(chunk)
        for key, value in out.states.items():
            if value is None:
                states.pop(key, None)
            else:
                states[key] = value
        emitted += [(t, orjson.loads(v)) for t, _, v in out.outputs if t in (TOPICS.aggregates, TOPICS.aqi)]
        pending += [(k, v) for t, k, v in out.outputs if t == TOPICS.partials]
    return emitted


def final(emitted, topic=None):
    """The fullest version of each roll-up window (what storage keeps)."""
    best = {}
    for t, m in emitted:
        if t != TOPICS.aggregates:
            continue
        key = (m["area"], m["metric"], m["window_s"], m["window_start"])
        if key not in best or m["count"] + m["excluded"] > best[key]["count"] + best[key]["excluded"]:
            best[key] = m
    return best


def minute_readings() -> list[dict]:
    out = []
    for s in (5, 25, 45):
        out += [r(s, {"noise_laeq": 60.0}, "nz-a", A, "noise"), r(s, {"noise_laeq": 70.0}, "nz-b", B, "noise"),
                r(s, {"wind_direction": 350.0, "wind_speed": 2.0}, "ws-a", A, "weather"),
                r(s, {"wind_direction": 20.0, "wind_speed": 4.0}, "ws-c", C, "weather"),
                r(s, {"avg_speed": 40.0, "vehicles_car": 10}, "tf-a", A, "traffic"),
                r(s, {"avg_speed": 10.0, "vehicles_car": 30}, "tf-b", B, "traffic")]
    for x in (A, B, C):  # a reading in the next minute of every commune closes the first
        out.append(r(100, {"noise_laeq": 50.0} if x != C else {"wind_speed": 1.0},
                     "nz-a" if x == A else "nz-b" if x == B else "ws-c", x, "noise" if x != C else "weather"))
    return out


@pytest.mark.parametrize("batches,seed", [(1, 0), (3, 1), (7, 2)])
def test_a_group_and_the_city_equal_their_readings_computed_by_hand(batches, seed):
    best = final(roll_up(communes(minute_readings()), batches, seed))
    start = "2026-11-25T00:00:00Z"
    group_noise = best[(288, "noise_laeq", 60, start)]
    assert group_noise["count"] == 6 and group_noise["areas"] == 2 and group_noise["level"] == "group"
    assert group_noise["parent"] == 31
    assert group_noise["mean"] == pytest.approx(10 * math.log10((3 * 10 ** 6 + 3 * 10 ** 7) / 6))  # 67.40 dB
    assert group_noise["arithmetic_mean"] == pytest.approx(65.0)
    assert (group_noise["min"], group_noise["max"]) == (60.0, 70.0)
    speed = best[(288, "avg_speed", 60, start)]
    assert speed["mean"] == pytest.approx((40 * 10 + 10 * 30) / 40)  # 17.5 km/h, not (40 + 10) / 2
    assert speed["vehicles"] == 120
    # wind: group 288 has only commune A's 350°; the city has A's 350° and C's 20°: the vector mean, 5°
    assert best[(288, "wind_direction", 60, start)]["mean"] == pytest.approx(350.0)
    city_wind = best[(31, "wind_direction", 60, start)]
    assert city_wind["mean"] == pytest.approx(5.0) and city_wind["count"] == 6 and city_wind["level"] == "city"
    assert city_wind["areas"] == 2  # groups 288 and 290
    city_speed = best[(31, "wind_speed", 60, start)]
    assert city_speed["sum"] == pytest.approx(18.0) and city_speed["mean"] == pytest.approx(3.0)
    # nothing made up: every roll-up window is one of these
    assert {k[0] for k in best} == {288, 290, 31}
    assert not [k for k in best if k[2] == 60 and k[3] != start]


def test_a_replayed_partial_changes_nothing_and_emits_nothing():
    outputs = communes(minute_readings())
    rollups, states = RollupProcessor(TOPICS, PLACES), {}
    first = roll_up(outputs, rollups=rollups, states=states)
    assert first
    assert roll_up(outputs, rollups=rollups, states=states) == []


def aqi_readings() -> list[dict]:
    out = []
    for minute in range(0, 180, 10):  # three hours: NowCast needs two of the last three
        out += [r(minute * 60, {"pm2_5": 30.0}, "aq-a", A), r(minute * 60, {"pm2_5": 90.0}, "aq-b", B),
                r(minute * 60, {"pm2_5": 160.0}, "aq-c", C)]
    for device, x in (("aq-a", A), ("aq-b", B), ("aq-c", C)):
        out.append(r(3 * 3600 + 40, {"pm2_5": 10.0}, device, x))
    return out


def test_the_aqi_of_a_group_and_of_the_city_is_their_worst_commune_s_naming_it():
    outputs = communes(aqi_readings())
    hours = [orjson.loads(v) for t, _, v in outputs if t == TOPICS.aqi]
    commune_aqi = {m["area"]: m["aqi"] for m in hours if m["start"] == "2026-11-25T02:00:00Z"}
    assert commune_aqi[C] > commune_aqi[B] > commune_aqi[A]
    emitted = [m for t, m in roll_up(outputs, 3, 4) if t == TOPICS.aqi and m["start"] == "2026-11-25T02:00:00Z"]
    last = {}
    for m in emitted:
        if m["area"] not in last or m["areas"] >= last[m["area"]]["areas"]:
            last[m["area"]] = m
    assert last[288]["aqi"] == commune_aqi[B] and last[288]["worst_area"] == B and last[288]["areas"] == 2
    assert last[288]["level"] == "group" and set(last[288]["aqi_level"]) == {"vi", "en"}
    assert last[290]["aqi"] == commune_aqi[C] and last[290]["worst_area"] == C
    assert last[31]["aqi"] == commune_aqi[C] and last[31]["worst_area"] == C and last[31]["areas"] == 2
    assert all(m["period"] == "hour" for m in emitted) and last[31]["concentrations"] == {"pm2_5": 160.0}


def test_a_window_is_forgotten_an_idle_hour_after_its_last_partial_and_a_later_one_is_counted():
    rollups, states = RollupProcessor(TOPICS, PLACES, idle_s=3600), {}

    def partial(area: int, start_s: int) -> bytes:
        return orjson.dumps({"v": 2, "kind": "window", "area": area, "parent": 288, "metric": "pm2_5",
                             "window_s": 60, "start_ms": ms(start_s), "agg": {"n": 1, "min": 1.0, "max": 1.0,
                                                                               "sum": 1.0}, "excluded": 0})

    def feed(offset: int, value: bytes, now_s: float):
        out = rollups.process([(0, offset, b"288", value)], states, now_ms=int(now_s * 1000))
        for key, v in out.states.items():
            if v is None:
                states.pop(key)
            else:
                states[key] = v
        return out

    # in a backlog, a commune 5 h behind its neighbour in event time, a minute later in wall time: rolled up
    assert feed(0, partial(A, 5 * 3600), 0).outputs
    late_neighbour = feed(1, partial(B, 0), 60)
    assert late_neighbour.outputs and not late_neighbour.counts["rollup_late_partials"]
    # an hour of wall clock later, both windows are forgotten (the state stays bounded) …
    assert feed(2, partial(A, 6 * 3600), 60 + 3600).counts["rollup_windows_forgotten"] == 2
    # … and a commune's window for one of them is counted as late, not rolled up as if it were alone
    out = feed(3, partial(10532, 5 * 3600), 60 + 3601)  # a third commune of group 288
    assert out.counts["rollup_late_partials"] == 1 and not out.outputs
    assert feed(4, b'{"kind": "window"}', 60 + 3602).counts["undecodable_partials"] == 1


def test_every_output_message_matches_the_schema_2_contract_and_the_committed_json_schemas():
    outputs = communes(minute_readings() + aqi_readings())
    emitted = roll_up(outputs, 2, 5)
    messages = [(t, orjson.loads(v)) for t, _, v in outputs if t in (TOPICS.aggregates, TOPICS.aqi)] + emitted
    levels = set()
    for topic, m in messages:
        model = AggregateMessage if topic == TOPICS.aggregates else AqiMessage
        checked = model.model_validate(m)  # extra="forbid": a field the contract does not name fails
        assert checked.area == checked.district and (checked.areas is None) == (checked.level == "commune")
        levels.add((topic, checked.level))
    assert levels == {(t, lv) for t in (TOPICS.aggregates, TOPICS.aqi) for lv in ("commune", "group", "city")}
    for name, text in output_schemas().items():
        assert (Path(__file__).parents[3] / "docs" / "schemas" / name).read_text(encoding="utf-8") == text, \
            f"docs/schemas/{name} is stale: regenerate it from telemetry.schema.output_schemas()"
