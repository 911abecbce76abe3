"""A fixed batch through the processor: aggregates, hourly AQI, alerts, late readings."""

import json

import orjson
import pytest

from streams.places import Places
from streams.processor import Processor
from streams.rules import Rules
from streams.windows import WindowConfig
from telemetry.areas import LEGACY_SET, AreaRegistry
from telemetry.devices import Device, DeviceRegistry
from telemetry.topics import KafkaTopics

from .readings import r

TOPICS = KafkaTopics("t")
PLACES = Places(AreaRegistry.named(LEGACY_SET))  # districts 288, 290, … are its communes
REGISTRY = DeviceRegistry([
    Device(device_id="aq-288-01", district=288, kind="air_quality"),
    Device(device_id="wl-288-01", district=288, kind="water_level", flood_threshold_cm=450),
])
CFG = WindowConfig(sizes_s=(60, 3600), lateness_s=30)


def encode(reading: dict) -> bytes:
    return orjson.dumps({k: v for k, v in reading.items() if k not in ("ts_ms", "received_ms")})


def run(readings, proc=None, states=None):
    proc = proc or Processor(TOPICS, CFG, Rules(), REGISTRY, PLACES)
    states = states if states is not None else {}
    batch = [(0, i, b"288", encode(x)) for i, x in enumerate(readings)]
    out = proc.process(batch, states)
    states.update(out.states)
    by_topic = {}
    for topic, key, value in out.outputs:
        # every output keyed by its area; partials by the area that rolls it up (the province, 30)
        assert key == (b"30" if topic == TOPICS.partials else b"288")
        by_topic.setdefault(topic, []).append(json.loads(value))
    return by_topic, out


def test_three_hours_of_pm_give_hourly_aqi_and_an_alert():
    readings = []
    for minute in range(0, 3 * 60, 5):
        pm = 40 if minute < 60 else 120  # second and third hours over "Xấu"
        readings.append(r(minute * 60, {"pm2_5": pm, "o3": 80}))
    readings.append(r(3 * 3600 + 40, {"pm2_5": 120}))  # closes the third hour
    out, outcome = run(readings)
    hourly = [m for m in out[TOPICS.aqi] if m["period"] == "hour"]
    # The first hour has no AQI: NowCast needs 2 of the last 3 hours.
    assert [h["start"][11:16] for h in hourly] == ["01:00", "02:00"]
    # By hand (Decision 1459): NowCast of 120, 120, 40: w* = 1/3 -> w = 1/2, (120 + 60 + 10) / 1.75 = 108.57;
    # PM2.5 between 80 (150) and 150 (200): 150 + 50/70 x 28.57 = 170.4; O3 80 (1 h): 25. AQI 170.
    assert hourly[1]["aqi"] == 170
    # 120, 40: (120 + 20) / 1.5 = 93.33 -> 150 + 50/70 x 13.33 = 159.5 -> 160.
    assert hourly[0]["aqi"] == 160
    assert hourly[0]["nowcast"]["pm2_5"] == pytest.approx((120 + 0.5 * 40) / 1.5, abs=0.01)
    assert hourly[1]["dominant"] == "pm2_5" and hourly[1]["concentrations"] == {"pm2_5": 120, "o3": 80}
    alerts = out[TOPICS.alerts]
    aqi_alerts = [a for a in alerts if a["rule"] == "aqi_bad"]
    # One alert: opened at 01:00–02:00, re-notified an hour later (renotify_s = 3600) with its peak.
    assert [a["state"] for a in aqi_alerts] == ["open", "update"] and aqi_alerts[0]["value"] == hourly[0]["aqi"]
    assert aqi_alerts[1]["alert_id"] == aqi_alerts[0]["alert_id"]
    assert aqi_alerts[1]["peak"] == max(hourly[0]["aqi"], hourly[1]["aqi"])
    minute_windows = [m for m in out[TOPICS.aggregates] if m["window_s"] == 60 and m["metric"] == "pm2_5"]
    assert len(minute_windows) == 36 and all(m["count"] == 1 for m in minute_windows)
    assert outcome.counts["windows"] == len(out[TOPICS.aggregates])


def test_minute_windows_hold_exactly_their_readings():
    readings = [r(s, {"pm2_5": s % 97, "o3": 50 + s % 13}) for s in range(0, 1800, 7)]
    readings += [r(1790, {"pm2_5": 5}), r(10, {"pm2_5": 999})]  # the last one is late
    out, outcome = run(readings)
    assert outcome.counts["late"] == 1 and len(out[TOPICS.late]) == 1
    assert out[TOPICS.late][0]["reading"]["metrics"] == {"pm2_5": 999}
    # Expected by plain bucketing of the inputs (the late 999 in none); the watermark (1790 - 30 s)
    # closes the minutes ending by 1760 s.
    want: dict[int, list[float]] = {}
    for s in range(0, 1800, 7):
        want.setdefault(s // 60, []).append(s % 97)
    want[1790 // 60].append(5)
    got = {(m["window_start"][14:16], m["metric"]): m for m in out[TOPICS.aggregates] if m["window_s"] == 60}
    closed = [minute for minute in want if (minute + 1) * 60 <= 1760]
    assert {k for k in got if k[1] == "pm2_5"} == {(f"{m:02d}", "pm2_5") for m in closed}
    for minute in closed:
        m = got[(f"{minute:02d}", "pm2_5")]
        assert (m["count"], m["sum"], m["min"], m["max"]) == (len(want[minute]), sum(want[minute]), min(want[minute]),
                                                              max(want[minute]))


def test_flood_alert_per_gauge_with_hysteresis():
    levels = [400, 460, 470, 445, 430, 300]
    readings = [r(60 * i + 10, {"water_level": lv}, device="wl-288-01", kind="water_level")
                for i, lv in enumerate(levels)]
    readings.append(r(60 * len(levels) + 45, {"pm2_5": 1}))
    out, _ = run(readings)
    flood = [a for a in out[TOPICS.alerts] if a["rule"] == "flood"]
    assert [a["state"] for a in flood] == ["open", "resolved"]
    assert flood[1]["peak"] == 470 and flood[0]["subject"] == "wl-288-01"


def test_batch_replayed_after_a_crash_changes_nothing():
    proc = Processor(TOPICS, CFG, Rules(), REGISTRY, PLACES)
    readings = [r(s, {"pm2_5": 20}) for s in range(0, 300, 10)]
    states = {}
    first, _ = run(readings, proc, states)
    again, outcome = run(readings, proc, states)  # same offsets: the state says they were applied
    assert outcome.counts["replayed_skipped"] == len(readings) and again == {}
