"""Queue a backlog of QoS 1 messages on the broker for a persistent shared-subscription session,
and the raw limit: how fast paho alone drains it (MQTT 5, manual acks, doing nothing else)."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

AIR_METRICS = {"pm2_5": 41.3, "pm10": 60.2, "co": 812.0, "no2": 40.1, "so2": 10.4, "o3": 50.0,
               "temperature": 21.5, "humidity": 70.0}


def payload(seq: int, base: datetime) -> bytes:
    ts = (base + timedelta(milliseconds=seq)).isoformat()
    return json.dumps({"ts": ts, "seq": seq, "metrics": AIR_METRICS}).encode()


def create_session(access, client_id: str, shared_filter: str) -> None:
    """Connect once with a persistent session (the gateway's account) and subscribe, so the broker queues for it."""
    host, port = access.service
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.username_pw_set(*access.gateway)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.on_connect = lambda client, *a: client.subscribe(shared_filter, qos=1)
    c.connect(host, port, clean_start=False, properties=props)
    c.loop_start()
    done.wait(10)
    c.disconnect()
    c.loop_stop()


OUTSTANDING = 30_000  # messages a publisher has queued and not yet had acknowledged, at most


def _publish_part(access, topics: list[str], seqs: range, base_iso: str) -> None:
    base = datetime.fromisoformat(base_iso)
    host, port = access.service
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    c.username_pw_set(*access.bridge)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(host, port)
    c.loop_start()
    infos = []
    for i, s in enumerate(seqs):
        if i >= OUTSTANDING:  # paho's message ids wrap at 65,535: a reused id of a queued message is refused
            infos[i - OUTSTANDING].wait_for_publish(120)
        infos.append(c.publish(topics[s % len(topics)], payload(s, base), qos=1))
    for info in infos[-OUTSTANDING:]:
        info.wait_for_publish(120)
    c.disconnect()
    c.loop_stop()


def publish_backlog(access, topics: list[str], n: int, processes: int = 2) -> float:
    """Publish n messages from `processes` publisher processes (the bridge account); returns the publish rate."""
    base = (datetime.now(timezone.utc) - timedelta(seconds=n / 1000 + 60)).isoformat()
    chunk = (n + processes - 1) // processes
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_publish_part, args=(access, topics, range(i * chunk, min(n, (i + 1) * chunk)),
                                                      base)) for i in range(processes)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode]
    if failed:
        raise RuntimeError(f"{len(failed)} of {processes} backlog publishers failed (exit codes {failed}; "
                           "their traceback is above): the backlog is incomplete")
    return n / (time.perf_counter() - start)


def raw_drain_rate(access, client_id: str, shared_filter: str, n: int, timeout_s: float = 300) -> float:
    """Connect to the persistent session and drain n queued messages with paho alone: MQTT 5,
    manual acks, ReceiveMaximum as the gateway uses; returns messages/s."""
    host, port = access.service
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
    c.username_pw_set(*access.gateway)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000
    count = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(client, userdata, msg):
        nonlocal count, first, last
        if count == 0:
            first = time.perf_counter()
        client.ack(msg.mid, msg.qos)
        count += 1
        last = time.perf_counter()
        if count >= n:
            done.set()

    c.on_message = on_message
    c.connect(host, port, clean_start=False, properties=props)
    c.loop_start()
    done.wait(timeout_s)
    c.disconnect()
    c.loop_stop()
    return (count - 1) / (last - first) if count > 1 and last > first else 0.0
