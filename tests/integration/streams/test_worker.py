"""The streams worker on the real Kafka: exact aggregates, AQI and alert lifecycle for a fixed
scenario with out-of-order and late readings; a worker killed mid-window; two workers = one."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import datetime, timedelta

import pytest

from streams.windows import WindowConfig
from tests.aqi_by_hand import hourly as hand_hourly
from tests.integration.helpers import fresh_database, read_topic, values, wait_for
from telemetry.areas import LEGACY_SET, AreaRegistry
from tests.integration.oracle import check_rollups, closed_by, compare_both_ways, fullest, load_readings, sql_windows

from .conftest import topics
from .scenario import HOURS, PM_BY_HOUR, base_time, build

CFG = WindowConfig(sizes_s=(60, 900, 3600), lateness_s=30)
LEGACY = AreaRegistry.named(LEGACY_SET)


def z(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


async def run_scenario(env, prefix: str, workers: int = 1):
    t0 = base_time()
    readings, late_index = build(t0)
    await env.produce(readings)
    ports = [env.start(f"w{i}-{prefix}", f"app-{prefix}", prefix)[1] for i in range(workers)]
    wait_for(lambda: sum(env.processed(p) for p in ports) >= len(readings), 120, 0.5, "all readings processed")
    return t0, readings, late_index


async def outputs(env, prefix: str, expect_aggregates: int) -> dict[str, list[dict]]:
    """Everything the workers published (read until quiet: a count would stop early when a takeover
    re-emitted identical windows, and make windows look lost that are in the topic)."""
    t = topics(prefix)
    everything = values(await read_topic(env.kafka, t.aggregates, timeout=90, quiet=3))
    aggregates = [m for m in everything if m["level"] == "commune"]
    assert len(aggregates) >= expect_aggregates, f"only {len(aggregates)} aggregates published"
    return {
        "aggregates": aggregates,
        "rollups": [m for m in everything if m["level"] != "commune"],
        "aqi": values(await read_topic(env.kafka, t.aqi, timeout=30, quiet=3)),
        "alerts": values(await read_topic(env.kafka, t.alerts, timeout=30, quiet=3)),
        "late": values(await read_topic(env.kafka, t.late, timeout=30, quiet=3)),
    }


@pytest.fixture
def oracle_db(database_url, unique):
    with fresh_database(database_url, f"oracle_{unique}") as dsn:
        yield dsn


def expected_windows(dsn: str, readings: list[dict], late_index: list[int]):
    """The oracle (tests/integration/oracle.py): the scenario's readings in TimescaleDB, minus the ones
    it makes late, bucketed by SQL; and each district's final watermark."""
    load_readings(dsn, readings, [readings[i] for i in late_index])
    return sql_windows(dsn, CFG.sizes_s), closed_by(dsn, CFG.lateness_s)


async def test_fixed_scenario_gives_exact_results(streams_env, oracle_db):
    env = streams_env
    prefix = f"one{env.unique}"
    t0, readings, late_index = await run_scenario(env, prefix)
    expected, watermarks = expected_windows(oracle_db, readings, late_index)
    must_close = [k for k, w in expected.items() if w["end"] <= watermarks[k[0]]]
    out = await outputs(env, prefix, len(must_close))

    # Every window the watermark closed is emitted, with the oracle's values; none made up; each once.
    assert compare_both_ways(expected, out["aggregates"], watermarks) == []
    keys = [(m["district"], m["metric"], m["window_s"], m["window_start"]) for m in out["aggregates"]]
    assert len(keys) == len(set(keys))
    # The province (30) rolls its two districts up: equal to SQL over the raw readings of both.
    problems, compared = check_rollups(oracle_db, CFG.sizes_s, out["rollups"], watermarks, LEGACY, "city")
    assert problems == [] and compared > 500
    assert {(m["area"], m["parent"]) for m in out["rollups"]} == {(30, None)}

    # Values checked by hand, independently of the windowing code.
    by_key = {(m["district"], m["metric"], m["window_s"], m["window_start"]): m for m in out["aggregates"]}
    for hour in range(HOURS):
        h = by_key[(288, "pm2_5", 3600, z(t0 + timedelta(hours=hour)))]
        assert h["count"] == 60 and h["mean"] == PM_BY_HOUR[hour], "the late 999s are in no window"
    noise = by_key[(288, "noise_laeq", 900, z(t0))]
    levels = [60.0 + m % 10 for m in range(15)]
    assert noise["mean"] == pytest.approx(10 * math.log10(sum(10 ** (x / 10) for x in levels) / 15))
    cars = by_key[(290, "vehicles_car", 900, z(t0))]
    assert cars["sum"] == sum(12 + m % 3 for m in range(15))
    jam = by_key[(290, "avg_speed", 60, z(t0 + timedelta(minutes=125)))]
    assert jam["mean"] == 9.0 and jam["vehicles"] == 40 + 125 % 7 + 12 + 125 % 3 + 3

    # Late readings: counted and published, with the reading.
    assert sorted(m["reading"]["seq"] for m in out["late"]) == [10_000, 10_001, 10_002]

    # Hourly AQI from the hourly means (NowCast over the hours so far).
    hourly = sorted((m for m in out["aqi"] if m["period"] == "hour" and m["area"] == 288),
                    key=lambda m: m["start"])
    history: list[float] = []
    got = []
    for hour in range(HOURS):
        history.insert(0, PM_BY_HOUR[hour])
        expected_aqi = hand_hourly({"pm2_5": history[:12], "pm10": [50.0] * len(history)}, {"o3": 60.0})
        got.append(expected_aqi)
    assert [m["aqi"] for m in hourly] == got[1:]  # the first hour has no NowCast (needs 2 of 3 hours)
    # The province's hourly AQI is its worst district's (288: the only one measuring air), naming it.
    city = sorted((m for m in fullest_aqi(out["aqi"], "city") if m["period"] == "hour"), key=lambda m: m["start"])
    assert [(m["aqi"], m["worst_area"], m["areas"]) for m in city] == [(a, 288, 1) for a in got[1:]]

    # The AQI alert: opens above 150, is re-notified every hour (renotify_s 3600) while above 140
    # (NowCast lags behind the hourly means), resolves at or below 140; one alert id throughout.
    lifecycle, is_open = [], False
    for value in got[1:]:
        if not is_open and value > 150:
            lifecycle.append("open")
            is_open = True
        elif is_open and value <= 140:
            lifecycle.append("resolved")
            is_open = False
        elif is_open:
            lifecycle.append("update")
    assert lifecycle[0] == "open" and "update" in lifecycle and lifecycle[-1] == "resolved"
    aqi_alerts = [a for a in out["alerts"] if a["rule"] == "aqi_bad"]
    assert [a["state"] for a in aqi_alerts] == lifecycle
    assert len({a["alert_id"] for a in aqi_alerts}) == 1
    assert aqi_alerts[-1]["peak"] == max(got[1:])
    congestion = [a for a in out["alerts"] if a["rule"] == "congestion"]
    assert [a["state"] for a in congestion] == ["open", "resolved"] and congestion[0]["subject"] == "tf-290-01"


async def test_worker_killed_mid_window_loses_and_doubles_nothing(streams_env, oracle_db):
    env = streams_env
    prefix = f"kill{env.unique}"
    t0 = base_time()
    readings, late_index = build(t0)
    half = len(readings) // 2
    await env.produce(readings[:half])
    proc, port = env.start("victim", f"app-{prefix}", prefix)
    wait_for(lambda: env.processed(port) >= half, 120, 0.5, "first half processed")
    proc.kill()
    await env.produce(readings[half:])
    _, port = env.start("survivor", f"app-{prefix}", prefix)
    wait_for(lambda: env.processed(port) >= len(readings) - half, 120, 0.5, "second half processed")
    expected, watermarks = expected_windows(oracle_db, readings, late_index)
    must_close = [k for k, w in expected.items() if w["end"] <= watermarks[k[0]]]
    out = await outputs(env, prefix, len(must_close))
    # Both ways: a window lost, a window made up, or a duplicate that differs is a failure.
    problems = compare_both_ways(expected, out["aggregates"], watermarks)
    assert problems == [], f"{len(problems)} problems, e.g. {problems[:5]}"
    problems, compared = check_rollups(oracle_db, CFG.sizes_s, out["rollups"], watermarks, LEGACY, "city")
    assert problems == [] and compared > 500, f"roll-ups: {len(problems)} problems, e.g. {problems[:5]}"
    keys = [(m["district"], m["metric"], m["window_s"], m["window_start"]) for m in out["aggregates"]]
    print(f"\n{len(set(keys))} windows ({len(must_close)} closed by the watermark), {len(keys) - len(set(keys))} "
          f"identical duplicates re-emitted after the kill (storage keeps one: unique key district+metric+window)")
    await wait_until_committed(env, f"app-{prefix}")


async def wait_until_committed(env, app: str, timeout: float = 30.0) -> None:
    """The group's offsets reach the end of the readings (commits do not stall behind skipped offsets)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while left := await env.uncommitted(app):
        assert asyncio.get_running_loop().time() < deadline, f"{app} never committed (committed, end): {left}"
        await asyncio.sleep(1.0)


def fullest_aqi(messages: list[dict], level: str) -> list[dict]:
    best: dict[tuple, dict] = {}
    for m in messages:
        if m["level"] == level:
            key = (m["area"], m["period"], m["start"])
            if key not in best or (m["aqi"], m.get("areas") or 0) > (best[key]["aqi"], best[key].get("areas") or 0):
                best[key] = m
    return list(best.values())


async def test_two_workers_give_the_same_output_as_one(streams_env, oracle_db):
    env = streams_env
    t0, readings, late_index = await run_scenario(env, f"solo{env.unique}")
    expected, watermarks = expected_windows(oracle_db, readings, late_index)
    must_close = [k for k, w in expected.items() if w["end"] <= watermarks[k[0]]]
    solo = await outputs(env, f"solo{env.unique}", len(must_close))
    assert compare_both_ways(expected, solo["aggregates"], watermarks) == []
    pair_prefix = f"pair{env.unique}"
    ports = [env.start(f"p{i}", f"app-{pair_prefix}", pair_prefix)[1] for i in range(2)]
    wait_for(lambda: sum(env.processed(p) for p in ports) >= len(readings), 120, 0.5, "pair processed all")
    pair = await outputs(env, pair_prefix, len(solo["aggregates"]))
    await wait_until_committed(env, f"app-{pair_prefix}")

    def canon(msgs):  # the set of distinct messages (a rebalance may repeat an identical one)
        return sorted({json.dumps(m, sort_keys=True) for m in msgs})

    for kind in ("aggregates", "alerts", "late"):
        assert canon(pair[kind]) == canon(solo[kind]), kind
    # roll-ups: the versions depend on how batches fell; the fullest of each are the same
    assert canon(fullest(pair["rollups"])) == canon(fullest(solo["rollups"]))
    for level in ("commune", "city"):
        assert canon(fullest_aqi(pair["aqi"], level)) == canon(fullest_aqi(solo["aqi"], level)), level
    assert len(solo["aggregates"]) > 2000 and solo["alerts"] and solo["aqi"] and solo["late"]
