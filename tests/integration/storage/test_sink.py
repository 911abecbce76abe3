"""The sink between the real Kafka and the real TimescaleDB: delivered twice -> stored once; a later
alert state replaces an earlier one; PostgreSQL restarted mid-stream -> every record exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import psycopg


from stack import postgres as stack_postgres
from stack.settings import StackSettings
from storage.audit import audit
from tests.integration.helpers import wait_for

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)


def z(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def reading(i: int, device: str = "aq-288-01", district: int = 288, status: str = "measuring") -> dict:
    ts = T0 + timedelta(seconds=i)
    return {"v": 1, "device_id": device, "district": district, "kind": "air_quality", "ts": z(ts),
            "received_at": z(ts + timedelta(seconds=1)), "seq": i, "status": status,
            "metrics": {"pm2_5": float(i % 100), "pm10": 20.0}, "format": "native"}


def alert(state: str, minute: int, peak: float) -> dict:
    return {"v": 1, "alert_id": "a1b2c3", "district": 288, "rule": "aqi_bad", "subject": "aqi", "state": state,
            "severity": "warning", "value": peak, "peak": peak, "threshold": 150.0, "unit": "AQI",
            "opened_at": z(T0), "first_window_start": z(T0 - timedelta(hours=1)),
            "updated_at": z(T0 + timedelta(minutes=minute)),
            "resolved_at": z(T0 + timedelta(minutes=minute)) if state == "resolved" else None}


def aggregate(minute: int) -> dict:
    start = T0 + timedelta(minutes=minute)
    return {"v": 1, "district": 288, "metric": "pm2_5", "unit": "µg/m³", "window_s": 60, "window_start": z(start),
            "window_end": z(start + timedelta(minutes=1)), "count": 2, "min": 1.0, "max": 3.0, "sum": 4.0,
            "mean": 2.0, "excluded": 0}


def deadletter(i: int) -> dict:
    return {"v": 1, "reason": "unknown_device", "message": "not in the registry", "mqtt_topic":
            "citysense/v1/288/ghost/telemetry", "received_at": z(T0 + timedelta(seconds=i)), "payload_b64": "e30=",
            "payload_bytes": 2, "payload_truncated": False, "payload_sha256": "x" * 64, "gateway": "gw"}


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("readings", "aggregates", "alerts", "deadletters")}


async def test_delivered_twice_stored_once_and_later_alert_state_wins(sink_env):
    env = sink_env
    t = env.topics
    readings = [reading(i) for i in range(500)]
    for _ in range(2):  # the same records, delivered twice
        await env.produce(t.readings, readings)
        await env.produce(t.aggregates, [aggregate(m) for m in range(30)])
        await env.produce(t.deadletter, [deadletter(i) for i in range(10)])
    # An alert's lifecycle, then an old message replayed after the newer ones.
    await env.produce(t.alerts, [alert("open", 0, 160), alert("update", 60, 190), alert("resolved", 120, 190),
                                 alert("open", 0, 160)])
    proc, port = env.start()
    await env.settled([t.readings, t.aggregates, t.deadletter, t.alerts])  # every record's rows written
    assert counts(env.dsn) == {"readings": 500, "aggregates": 30, "alerts": 1, "deadletters": 10}
    with psycopg.connect(env.dsn) as conn:
        state, peak, resolved = conn.execute("SELECT state, peak, resolved_at FROM alerts").fetchone()
        assert (state, peak) == ("resolved", 190) and resolved == T0 + timedelta(minutes=120)
        s = conn.execute("SELECT sum(pm2_5), count(DISTINCT seq) FROM readings").fetchone()
        assert s == (sum(float(i % 100) for i in range(500)), 500)
        # every reading came twice: counted, for `citysense audit`'s duplicates removed
        assert conn.execute("SELECT min(deliveries), max(deliveries) FROM readings").fetchone() == (2, 2)
        dup = {d["device_id"]: d["duplicates_removed"] for d in audit(conn, timedelta(days=3650))}
        assert sum(dup.values()) == 500
        # The dead letters came twice as distinct Kafka records (a gateway's re-send): stored once.
        rejected = {d["device_id"]: d["rejected"] for d in audit(conn, timedelta(days=3650))}
        assert rejected["ghost"] == {"unknown_device": 10}
    assert proc.stop() == 0


async def test_a_message_with_more_metrics_for_the_same_instant_is_merged(sink_env):
    env = sink_env
    first = reading(1)
    second = dict(first, metrics={"o3": 42.0})
    await env.produce(env.topics.readings, [first, second, first])
    proc, port = env.start()
    await env.settled([env.topics.readings])
    with psycopg.connect(env.dsn) as conn:
        rows = conn.execute("SELECT pm2_5, pm10, o3, deliveries FROM readings").fetchall()
    assert rows == [(1.0, 20.0, 42.0, 3)]
    proc.stop()


async def test_readings_under_a_former_districts_topic_are_stored_and_audited(sink_env):
    """A device of commune 10507 that still publishes under 288 (the gateway marks its readings with
    topic_area, telemetry/validation.py): stored with that mark, counted per device by the audit."""
    env = sink_env
    legacy = [dict(reading(i, device="aq-thd-01", district=10507), topic_area=288) for i in range(40)]
    today = [reading(i, device="aq-thd-02", district=10507) for i in range(25)]
    old_message = [reading(i, device="aq-288-01") for i in range(5)]  # written before the field existed
    for r in old_message:
        r.pop("topic_area", None)
    await env.produce(env.topics.readings, legacy + today + old_message, key=b"10507")
    proc, port = env.start()
    await env.settled([env.topics.readings])
    with psycopg.connect(env.dsn) as conn:
        stored = dict(conn.execute("SELECT device_id, count(*) FILTER (WHERE topic_area = 288) FROM readings "
                                   "GROUP BY 1").fetchall())
        report = {d["device_id"]: d for d in audit(conn, timedelta(days=3650))}
    assert stored == {"aq-thd-01": 40, "aq-thd-02": 0, "aq-288-01": 0}
    assert report["aq-thd-01"]["legacy_topic"] == {"readings": 40, "topic_code": 288}
    assert report["aq-thd-02"]["legacy_topic"] is None and report["aq-288-01"]["legacy_topic"] is None
    assert proc.stop() == 0


async def test_postgresql_restart_while_writing_loses_and_doubles_nothing(sink_env):
    env = sink_env
    proc, port = env.start()
    total = 30_000
    producer = asyncio.create_task(env.produce(env.topics.readings, [reading(i) for i in range(total)]))
    await asyncio.to_thread(wait_for, lambda: env.consumed(port) >= 3000, 60, 0.05, "sink writing")
    settings = StackSettings()
    stopped_at = time.monotonic()
    await asyncio.to_thread(stack_postgres.down, settings)
    await asyncio.sleep(3)
    await asyncio.to_thread(stack_postgres.up, settings)
    print(f"\nPostgreSQL down for {time.monotonic() - stopped_at:.1f} s while the sink was writing")
    await producer
    await env.settled([env.topics.readings], timeout_s=180)
    with psycopg.connect(env.dsn) as conn:
        rows, distinct, lo, hi = conn.execute(
            "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM readings").fetchone()
    assert (rows, distinct, lo, hi) == (total, total, 0, total - 1)
    assert "unavailable" in proc.log_file.read_text(), "the sink should have seen the outage"
    assert proc.stop() == 0


def rollup_version(count: int, areas: int, mean: float) -> dict:
    """A group's window as the roll-up stage refines it (schema 2)."""
    return {**aggregate(0), "v": 2, "district": 288, "area": 288, "level": "group", "parent": 31, "count": count,
            "sum": mean * count, "mean": mean, "areas": areas}


def rollup_aqi(aqi: int, areas: int, worst: int) -> dict:
    return {"v": 2, "district": 288, "area": 288, "level": "group", "parent": 31, "period": "hour", "start": z(T0),
            "end": z(T0 + timedelta(hours=1)), "aqi": aqi, "aqi_level": {"vi": "Kém", "en": "Poor"},
            "colour": [255, 126, 0], "dominant": "pm2_5", "sub_indices": {"pm2_5": aqi}, "nowcast": {"pm2_5": 60.0},
            "beyond_index": False, "health": None, "concentrations": {"pm2_5": 60.0}, "areas": areas,
            "worst_area": worst}


async def test_the_fullest_version_of_a_roll_up_is_kept_whatever_the_order(sink_env):
    env = sink_env
    t = env.topics
    proc, port = env.start()
    # versions of one group window (2, then 3 communes) and of its hourly AQI: the thinner stored
    # first, then the fuller with a repeat of the thinner in one batch, then the thinner once more
    thin = [(10, 20.0, 2, "group", 31)], [(120, 2, 10507, "group", "Kém")]
    full = [(15, 22.0, 3, "group", 31)], [(160, 3, 10532, "group", "Kém")]
    for step, (aggregates, aqi) in enumerate((([rollup_version(10, 2, 20.0)], [rollup_aqi(120, 2, 10507)]),
                            ([rollup_version(15, 3, 22.0), rollup_version(10, 2, 20.0)],
                             [rollup_aqi(160, 3, 10532), rollup_aqi(120, 2, 10507)]),
                            ([rollup_version(10, 2, 20.0)], [rollup_aqi(120, 2, 10507)]))):
        await env.produce(t.aggregates, aggregates, key=b"288")
        await env.produce(t.aqi, aqi, key=b"288")
        await env.settled([t.aggregates, t.aqi])
        with psycopg.connect(env.dsn) as conn:
            stored = conn.execute("SELECT count, mean, areas, level, parent FROM aggregates").fetchall()
            stored_aqi = conn.execute("SELECT aqi, areas, worst_area, level, level_vi FROM aqi").fetchall()
        assert (stored, stored_aqi) == (thin if step == 0 else full), step
    assert proc.stop() == 0
