"""A real gateway process between the real Mosquitto and the real Kafka: valid readings, every
reason code to the dead-letter topic, poison messages among valid traffic, security summaries."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

from tests.integration.helpers import Publisher, http_get, metric_value, read_topic, values, wait_for


def now_iso(delta_s: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=delta_s)).isoformat()


async def test_valid_reading_reaches_kafka_in_canonical_form(gw):
    proc, port = gw.start()
    pub = gw.publisher()
    ts = now_iso()
    pub.publish(gw.topic(), json.dumps({"ts": ts, "seq": 7, "metrics": {"pm2_5": 41.3, "co": 1.2, "no2": 20},
                                        "units": {"co": "mg/m3", "no2": "ppb"}}))
    pub.wait_all()
    pub.close()
    [record] = await read_topic(gw.kafka, gw.topics.readings, until=1)
    assert record.key == b"288"
    reading = json.loads(record.value)
    assert reading["device_id"] == "aq-288-01" and reading["district"] == 288 and reading["seq"] == 7
    assert reading["metrics"]["pm2_5"] == 41.3 and reading["metrics"]["co"] == 1200.0
    assert abs(reading["metrics"]["no2"] - 20 * 46.0055 / 24.45) < 1e-9
    assert datetime.fromisoformat(reading["ts"]) == datetime.fromisoformat(ts)
    # Counters are flushed to Prometheus every 0.2 s.
    wait_for(lambda: metric_value(http_get(f"http://127.0.0.1:{port}/metrics")[1],
                                  "citysense_gateway_mqtt_acks_total") == 1, 10, what="one MQTT ack counted")
    assert proc.stop() == 0


async def test_a_device_on_its_former_districts_topic_is_forwarded_keyed_by_its_commune_and_counted(gw):
    proc, port = gw.start()
    pub = gw.publisher()
    # Phường Thành Đông (10507) grew from Thành phố Hải Dương (288), not from Chí Linh (290)
    for seq, code in enumerate([288] * 5 + [10507] * 3 + [290] * 2):
        pub.publish(gw.topic("aq-thd-01", code), json.dumps({"ts": now_iso(-seq), "seq": seq, "metrics": {"pm10": 30}}))
    pub.wait_all()
    pub.close()
    records = await read_topic(gw.kafka, gw.topics.readings, until=8)
    readings = [json.loads(r.value) for r in records]
    assert {r.key for r in records} == {b"10507"} and {r["district"] for r in readings} == {10507}
    assert sorted((r["seq"], r["topic_area"]) for r in readings) == [(s, 288) for s in range(5)] + \
        [(s, None) for s in range(5, 8)]
    rejects = [json.loads(r.value) for r in await read_topic(gw.kafka, gw.topics.deadletter, until=2)]
    assert [d["reason"] for d in rejects] == ["district_mismatch"] * 2
    assert "10507" in rejects[0]["message"] and "former district 288" in rejects[0]["message"]
    wait_for(lambda: metric_value(http_get(f"http://127.0.0.1:{port}/metrics")[1],
                                  "citysense_gateway_legacy_topic_messages_total",
                                  '{former_district="288"}') == 5, 10, what="5 legacy-topic messages counted")
    assert proc.stop() == 0


def reason_cases(gw) -> list[tuple[str, str, bytes]]:
    ok = {"ts": now_iso(), "metrics": {"pm2_5": 10}}

    def j(**over):
        return json.dumps({**ok, **over}).encode()

    return [
        ("not_utf8", gw.topic(), b'{"ts": "\xff", "metrics": {}}'),
        ("malformed_json", gw.topic(), b'{"ts": '),
        ("payload_too_large", gw.topic(), b'{"pad": "' + b"x" * 100_000 + b'"}'),
        ("too_deep", gw.topic(), b"[" * 5000 + b"]" * 5000),
        ("bad_topic", f"{gw.root}/v1/abc/aq-288-01/telemetry", j()),
        ("unknown_device", gw.topic("ghost-9"), j()),
        ("district_mismatch", gw.topic("aq-288-01", 290), j()),
        ("missing_field", gw.topic(), b'{"metrics": {"pm2_5": 1}}'),
        ("wrong_type", gw.topic(), j(metrics={"pm2_5": "high"})),
        ("unknown_metric", gw.topic(), j(metrics={"radiation": 1})),
        ("bad_unit", gw.topic(), j(metrics={"pm2_5": 1}, units={"pm2_5": "ppm"})),
        ("not_finite", gw.topic(), b'{"ts": "' + now_iso().encode() + b'", "metrics": {"pm2_5": NaN}}'),
        ("out_of_range", gw.topic(), j(metrics={"pm2_5": -1})),
        ("ts_future", gw.topic(), j(ts="2099-01-01T00:00:00+07:00")),
        ("ts_too_old", gw.topic(), j(ts="1970-01-01T00:00:00Z")),
        ("duplicate_metric", gw.topic(), b'{"ts": "' + now_iso().encode() + b'", "metrics": {"o3": 1, "o3": 2}}'),
    ]


async def test_every_reason_code_lands_in_the_dead_letter_topic(gw):
    proc, _ = gw.start()
    cases = reason_cases(gw)
    pub = gw.publisher()
    for _, topic, payload in cases:
        pub.publish(topic, payload)
    pub.wait_all()
    pub.close()
    dead = values(await read_topic(gw.kafka, gw.topics.deadletter, until=len(cases)))
    assert sorted(d["reason"] for d in dead) == sorted(c[0] for c in cases)
    by_reason = {d["reason"]: d for d in dead}
    for reason, topic, payload in cases:
        d = by_reason[reason]
        assert d["mqtt_topic"] == topic and d["payload_bytes"] == len(payload) and d["message"]
        assert base64.b64decode(d["payload_b64"]) == payload[:16 * 1024]
    assert await read_topic(gw.kafka, gw.topics.readings, quiet=1) == []
    assert proc.stop() == 0


async def test_poison_messages_do_not_stop_valid_traffic(gw):
    proc, port = gw.start()
    pub = gw.publisher()
    poison = {100: b"{" * 1_000_000, 200: b"\xc3\x28 not utf-8", 300: b"[" * 30_000 + b"]" * 30_000}
    for seq in range(400):
        if seq in poison:
            pub.publish(gw.topic("aq-288-02"), poison[seq])
        pub.publish(gw.topic(), json.dumps({"ts": now_iso(-400 + seq), "seq": seq, "metrics": {"pm2_5": seq % 90}}))
    pub.wait_all()
    pub.close()
    readings = values(await read_topic(gw.kafka, gw.topics.readings, until=400))
    assert sorted(r["seq"] for r in readings) == list(range(400))
    dead = values(await read_topic(gw.kafka, gw.topics.deadletter, until=3))
    assert sorted(d["reason"] for d in dead) == ["not_utf8", "payload_too_large", "too_deep"]
    oversized = next(d for d in dead if d["reason"] == "payload_too_large")
    assert oversized["payload_bytes"] == 1_000_000 and oversized["payload_truncated"]
    security = values(await read_topic(gw.kafka, gw.topics.security_events, until=1, timeout=20))
    assert security and security[0]["client"] == "aq-288-02" and security[0]["total"] == 3
    assert proc.proc.poll() is None, "the gateway died"
    assert proc.stop() == 0


async def test_security_events_are_rate_limited_summaries(gw):
    proc, _ = gw.start()
    pub = gw.publisher()
    for i in range(500):
        pub.publish(gw.topic("intruder-1"), b"{}")
        if i % 50 == 0:
            pub.publish(gw.topic("aq-288-05", 290), json.dumps({"ts": now_iso(), "metrics": {"pm2_5": 1}}))
    pub.wait_all()
    pub.close()
    await read_topic(gw.kafka, gw.topics.deadletter, until=510)
    events = values(await read_topic(gw.kafka, gw.topics.security_events, timeout=15, quiet=5))
    intruder = [e for e in events if e["client"] == "intruder-1"]
    assert sum(e["counts"]["unknown_device"] for e in intruder) == 500
    assert len(intruder) <= 5, "one summary per client per interval, not one per message"
    assert any(e["flood"] for e in intruder)
    spoof = [e for e in events if e["client"] == "aq-288-05"]
    assert sum(e["counts"]["district_mismatch"] for e in spoof) == 10
    assert proc.stop() == 0
