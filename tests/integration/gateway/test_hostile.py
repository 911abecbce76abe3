"""Hostile input over real MQTT connections (>= 30 cases): each is rejected by the gateway with the
right reason, or refused by the broker; the gateway does not crash, stays within its memory bound,
and a device's valid traffic keeps flowing meanwhile with none lost. Prints the table of cases."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from stack.broker_auth import local_access
from tests.integration.helpers import Publisher, read_topic, values

from .raw_mqtt import broker_closes_after_publish
from .test_flow import now_iso

RSS_BOUND_MB = 200  # the gateway's stated bound (README)
FLOOD = b'{"metrics": {"pm2_5": 99}}'  # no time: missing_field


@dataclass
class Case:
    name: str
    topic: str
    payload: bytes
    expected: str  # a reason code, or DROPPED (the broker's ACL lets no such topic through)


DROPPED = "dropped by the broker (ACL)"


def payload_cases(gw) -> list[Case]:
    now = now_iso()
    unique = iter(range(1000, 2000))

    def j(**over) -> bytes:  # a distinct payload per case (dead letters are matched by sha256)
        return json.dumps({"ts": now, "seq": next(unique), "metrics": {"pm2_5": 12.5}, **over}).encode()

    t = gw.topic
    digits = "1" + "0" * 20_000
    return [
        Case("malformed JSON", t("aq-288-02"), b'{"ts": ', "malformed_json"),
        Case("empty payload", t("aq-288-02"), b"", "malformed_json"),
        Case("trailing garbage", t("aq-288-02"), j() + b"}}", "malformed_json"),
        Case("invalid UTF-8", t("aq-288-03"), b'{"ts": "\xff\xfe", "metrics": {}}', "not_utf8"),
        Case("UTF-8 encoded surrogate", t("aq-288-03"), b'{"ts": "\xed\xa0\x80", "metrics": {}}', "not_utf8"),
        Case("1 MB payload", t("aq-288-04"), b'{"pad": "' + b"x" * 1_000_000 + b'"}', "payload_too_large"),
        Case("100 KB payload", t("aq-288-04"), b"[" + b"1," * 50_000 + b"1]", "payload_too_large"),
        Case("deep nesting, arrays", t("aq-288-05"), b"[" * 5000 + b"]" * 5000, "too_deep"),
        Case("deep nesting, objects", t("aq-288-05"), b'{"a":' * 500 + b"1" + b"}" * 500, "too_deep"),
        Case("NaN", t("aq-288-06"), b'{"ts": "' + now.encode() + b'", "metrics": {"pm2_5": NaN}}', "not_finite"),
        Case("Infinity", t("aq-288-06"), b'{"ts": "' + now.encode() + b'", "metrics": {"pm2_5": Infinity}}',
             "not_finite"),
        Case("-Infinity", t("aq-288-06"), b'{"ts": "' + now.encode() + b'", "metrics": {"co": -Infinity}}',
             "not_finite"),
        Case("20,000-digit number", t("aq-288-07"),
             b'{"ts": "' + now.encode() + b'", "metrics": {"pm2_5": ' + digits.encode() + b"}}", "out_of_range"),
        Case("negative vehicle count", t("tf-290-02", 290), j(metrics={"vehicles_car": -5}), "out_of_range"),
        Case("negative concentration", t("aq-288-07"), j(metrics={"pm2_5": -1}), "out_of_range"),
        Case("timestamp in 2099", t("aq-288-08"), j(ts="2099-01-01T00:00:00+07:00"), "ts_future"),
        Case("timestamp in 1970", t("aq-288-08"), j(ts="1970-01-01T00:00:00Z"), "ts_too_old"),
        Case("replay of an 8-day-old message", t("aq-288-08"), j(ts=now_iso(-8 * 86400), seq=1), "ts_too_old"),
        Case("unknown metric", t("aq-288-09"), j(metrics={"radiation": 1}), "unknown_metric"),
        Case("1,000 unknown metrics", t("aq-288-09"), j(metrics={f"m{i}": i for i in range(1000)}),
             "unknown_metric"),
        Case("SQL text in a value", t("aq-288-10"), j(metrics={"pm2_5": "1; DROP TABLE readings;--"}), "wrong_type"),
        Case("SQL text in the time", t("aq-288-10"), j(ts="2026'); DROP TABLE readings;--"), "wrong_type"),
        Case("SQL text in the topic's device", f"{gw.root}/v1/288/x';DROP TABLE readings;--/telemetry", j(),
             "bad_topic"),
        Case("JSON null", t("aq-288-11"), b"null", "wrong_type"),
        Case("metrics as a list", t("aq-288-11"), j(metrics=[1, 2]), "wrong_type"),
        Case("duplicate keys", t("aq-288-12"), b'{"ts": "' + now.encode() + b'", "metrics": {"o3": 1, "o3": 2}}',
             "duplicate_metric"),
        Case("missing time", t("aq-288-12"), b'{"metrics": {"pm2_5": 1}}', "missing_field"),
        Case("unit that does not fit", t("aq-288-13"), j(units={"pm2_5": "ppm"}), "bad_unit"),
        Case("topic/district mismatch", t("aq-288-13", 290), j(), "district_mismatch"),
        Case("unknown device", t("ghost-404"), j(), "unknown_device"),
        Case("topic of another version", f"{gw.root}/v2/288/aq-288-14/telemetry", j(), DROPPED),
        Case("wrong topic depth", f"{gw.root}/v1/288/aq-288-14/telemetry/extra", j(), DROPPED),
    ]


class ValidTraffic:
    """aq-288-01 with its own credentials: one valid reading every 20 ms while the attacks run."""

    def __init__(self, gw, access) -> None:
        self.pub = Publisher(*access.device, "aq-288-01", "aq-288-01", access.devices["aq-288-01"])
        self.gw, self.seq, self._stop = gw, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.pub.publish(self.gw.topic("aq-288-01"), json.dumps(
                {"ts": now_iso(-600 + self.seq * 0.02), "seq": self.seq, "metrics": {"pm2_5": 20.0}}))
            self.seq += 1
            time.sleep(0.02)

    def stop(self) -> int:
        self._stop.set()
        self.thread.join()
        self.pub.wait_all()
        self.pub.close()
        return self.seq


def connect_result(endpoint, account) -> bool:
    """True if the broker accepted the connection."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if account:
        c.username_pw_set(*account)
    result: list = []
    c.on_connect = lambda client, u, f, rc, p: result.append(rc)
    c.connect(*endpoint)
    c.loop_start()
    deadline = time.monotonic() + 5
    while not result and time.monotonic() < deadline:
        time.sleep(0.02)
    c.disconnect()
    c.loop_stop()
    return bool(result) and not result[0].is_failure


async def test_hostile_input_is_rejected_and_valid_traffic_flows(gw, stack_settings):
    devices = ["aq-288-01", "aq-288-15", "aq-288-16", "aq-288-17"]
    access = local_access(stack_settings, devices)
    time.sleep(0.3)
    proc, _ = gw.start()
    valid = ValidTraffic(gw, access)
    table: list[tuple[str, str, str, bool]] = []

    # 1. payloads the gateway must reject, each with its reason (sent on the bridge account)
    cases = payload_cases(gw)
    bridge = gw.publisher("hostile")
    for case in cases:
        bridge.publish(case.topic, case.payload)
    # 2. a client flooding at full speed (5,000 messages without a time)
    flood = Publisher(*access.device, "aq-288-15", "aq-288-15", access.devices["aq-288-15"])
    for _ in range(5000):
        flood.publish(gw.topic("aq-288-15"), FLOOD)
    flood.wait_all(120)
    flood.close()
    # 3. a replay of recent messages already sent: forwarded (storage and streams keep one)
    replay_payload = json.dumps({"ts": now_iso(-600), "seq": 0, "metrics": {"pm2_5": 20.0}}).encode()
    bridge.publish(gw.topic("aq-288-01"), replay_payload)
    bridge.wait_all(120)
    bridge.close()

    # 4. what the broker itself refuses
    dev = ("aq-288-16", access.devices["aq-288-16"])
    spy = Publisher(*gw.access.service, f"spy-{gw.unique}", *gw.access.gateway)
    received: list[bytes] = []
    spy.client.on_message = lambda c, u, m: received.append(m.payload)
    spy.client.subscribe(f"{gw.root}/v1/+/+/telemetry", qos=1)
    time.sleep(0.5)
    other = Publisher(*access.device, "aq-288-16", *dev)
    other.publish(gw.topic("aq-288-17"), b'{"forged": "for another device"}')
    other.wait_all()
    other.close()
    oversized = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    oversized.username_pw_set(*dev)
    dropped = threading.Event()
    oversized.on_disconnect = lambda *a: dropped.set()
    oversized.connect(*access.device)
    oversized.loop_start()
    oversized.publish(gw.topic("aq-288-16"), b"x" * 3_000_000, qos=1)
    broker_dropped_oversized = dropped.wait(10)
    oversized.loop_stop()
    broker_cases = [
        ("another device's topic", "refused by the broker (ACL)", lambda: time.sleep(1) or not any(
            p.startswith(b'{"forged"') for p in received)),
        ("3 MB packet (over max_packet_size)", "refused by the broker (disconnect)", lambda: broker_dropped_oversized),
        ("wildcard '#' in a PUBLISH topic", "refused by the broker (disconnect)",
         lambda: broker_closes_after_publish(access.device, dev, f"{gw.root}/v1/288/#".encode())),
        ("wildcard '+' in a PUBLISH topic", "refused by the broker (disconnect)",
         lambda: broker_closes_after_publish(access.device, dev, f"{gw.root}/v1/+/aq-288-16/telemetry".encode())),
        ("empty PUBLISH topic", "refused by the broker (disconnect)",
         lambda: broker_closes_after_publish(access.device, dev, b"")),
        ("anonymous connection", "refused by the broker", lambda: not connect_result(access.device, None)),
        ("wrong password", "refused by the broker", lambda: not connect_result(access.device, ("aq-288-16", "x"))),
        ("unknown account", "refused by the broker", lambda: not connect_result(access.device, ("ghost", "x"))),
        ("reconnect storm (200 connects in a row)", "served; nothing else disturbed",
         lambda: all(connect_result(access.device, ("aq-288-17", access.devices["aq-288-17"])) for _ in range(200))),
    ]
    for name, expected, check in broker_cases:
        table.append((name, "broker", expected, bool(check())))
    spy.close()
    sent_valid = valid.stop()

    # The gateway's verdicts, matched to each payload by its sha256
    expected_dead = len([c for c in cases if c.expected != DROPPED]) + 5000
    dead = values(await read_topic(gw.kafka, gw.topics.deadletter, until=expected_dead, timeout=120))
    by_hash: dict[str, list[str]] = {}
    for d in dead:
        by_hash.setdefault(d["payload_sha256"], []).append(d["reason"])
    for case in cases:
        got = by_hash.get(hashlib.sha256(case.payload).hexdigest(), [])
        if case.expected == DROPPED:
            table.append((case.name, "broker", DROPPED, got == []))
        else:
            table.append((case.name, "gateway", case.expected, got == [case.expected]))
    flood_reasons = by_hash.get(hashlib.sha256(FLOOD).hexdigest(), [])
    table.append(("flood: 5,000 messages at full speed", "gateway", "missing_field x 5000",
                  flood_reasons == ["missing_field"] * 5000))
    readings = values(await read_topic(gw.kafka, gw.topics.readings, until=sent_valid + 1, timeout=120))
    seqs = sorted(r["seq"] for r in readings if r["device_id"] == "aq-288-01")
    table.append(("replay of a recent message", "gateway", "forwarded (stored once downstream)", seqs.count(0) == 2))
    rss = gw.processes[0].rss_mb()
    alive = proc.proc.poll() is None

    print(f"\n{'case':44s} {'handled by':10s} {'expected':40s} ok")
    for name, where, expected, ok in table:
        print(f"{name:44s} {where:10s} {expected:40s} {'yes' if ok else 'NO'}")
    print(f"valid readings of aq-288-01 meanwhile: sent {sent_valid}, in Kafka {len(set(seqs))}; "
          f"gateway alive {alive}, RSS {rss:.0f} MB (bound {RSS_BOUND_MB} MB)")

    assert len(table) >= 30
    assert [row[0] for row in table if not row[3]] == []
    assert sorted(set(seqs)) == list(range(sent_valid)), "valid traffic lost during the attacks"
    assert alive and rss < RSS_BOUND_MB
    assert proc.stop() == 0
