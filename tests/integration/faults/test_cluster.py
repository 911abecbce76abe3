"""The production rehearsal's broker faults, modelled on Kafka's own system tests
(tests/kafkatest/tests/core/replication_test.py: hard bounces of brokers under produce and consume,
then every acknowledged message consumed): the platform runs against a 3-node KRaft cluster
(stack/cluster.py: replication 3, min.insync.replicas 2, SASL/SCRAM over TLS, a user per service with
only its ACLs), with two gateways in an MQTT share group and two streams workers; under a steady
device load
- one broker is killed (SIGKILL) and comes back;
- one gateway of the two, or one streams worker of the two, is killed and comes back 20 s later;
- one broker's data directory turns read-only ("disk full"): it stops, and returns once writable;
- two of the three are killed: producing must stop — the gateway then acknowledges nothing to MQTT, the
  devices' messages wait in the broker — and resume when they return.
Afterwards the fault suite's accounting (accounting.py): every reading Mosquitto acknowledged stored
exactly once, aggregates and roll-ups equal to SQL over the stored readings, the recovery time."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from contextlib import contextmanager
import re
import signal
import ssl
import subprocess
import time

import psycopg
from psycopg.conninfo import make_conninfo
import pytest

from api.app import action_topic
from stack.cluster import Cluster
from stack.netns import Namespace
from stack.postgres import superuser_dsn
from stack.process import wait_until
from stack.secure_broker import SecureBroker
from stack.tls import ensure_ca, issue_peer
from streams import state_store
from telemetry.topics import KafkaTopics
from tests.integration.helpers import http_get

from .accounting import run_fault
from .load import DeviceLoad
from .conftest import running_platform

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def zone():
    """A network namespace for one streams worker (the partition fault); the cluster listens there too."""
    ns = Namespace().create()
    yield ns
    ns.delete()


@pytest.fixture(scope="module")
def cluster(stack_settings, zone):
    yield from running(Cluster(stack_settings, zone_address=zone.host_address))


def prepare(cluster: Cluster):
    """As an operator would (Strimzi's KafkaTopic and KafkaUser resources): the topics, created by the
    admin with replication 3, and each service's ACLs — the gateway may only write its four topics,
    the sink may only read."""
    def before_start(p) -> None:
        topics = KafkaTopics(p.root)
        app = p.env["CITYSENSE_STREAMS_APP_ID"]
        state = {state_store.state_topic(app): 12, state_store.rollup_state_topic(app): 12}
        asyncio.run(_create_topics(cluster, {**topics.partitions(), **state, action_topic(p.root): 3}, set(state)))
        written = (topics.readings, topics.deadletter, topics.security_events, topics.device_health)
        cluster.allow("citysense-gateway", ("Write", "Describe"), tuple(f"--topic={t}" for t in written))
        cluster.allow("citysense-streams", ("All",), (f"--topic={p.root}.", f"--topic={app}", f"--group={app}"),
                      prefixed=True)
        cluster.allow("citysense-sink", ("Read", "Describe"), (f"--topic={p.root}.",), prefixed=True)
        cluster.allow("citysense-sink", ("Read",), (f"--group={p.env['CITYSENSE_STORAGE_GROUP_ID']}",))
        cluster.allow("citysense-api", ("Read", "Describe"), (f"--topic={p.root}.",), prefixed=True)
        cluster.allow("citysense-api", ("Write",), (f"--topic={action_topic(p.root)}",))
        # PostgreSQL over TLS, the server's certificate checked against the CA and its name (verify-full),
        # each service as its least-privilege role (the owner only migrates)
        for service, env in database_env(cluster, p.dsn).items():
            p.service_env[service] = {**p.service_env.get(service, {}), **env}
    return before_start


def database_env(cluster: Cluster, dsn: str) -> dict[str, dict[str, str]]:
    ca = str(ensure_ca(cluster.settings) / "ca.crt")

    def tls(**who: str) -> str:
        return make_conninfo(dsn, sslmode="verify-full", sslrootcert=ca, **who)

    return {"sink": {"CITYSENSE_DATABASE_URL": tls(),
                     "CITYSENSE_STORAGE_SINK_DATABASE_URL": tls(user="citysense_sink", password="citysense_sink")},
            "api": {**cluster.client_env("citysense-api"),
                    "CITYSENSE_API_READ_DATABASE_URL": tls(user="citysense_ro", password="citysense_ro"),
                    "CITYSENSE_API_ACTIONS_DATABASE_URL": tls(user="citysense_api", password="citysense_api")}}


def _admin(cluster: Cluster):
    from aiokafka.admin import AIOKafkaAdminClient

    context = ssl.create_default_context(cafile=str(ensure_ca(cluster.settings) / "ca.crt"))
    context.load_cert_chain(*issue_peer(cluster.settings, "admin"))
    return AIOKafkaAdminClient(bootstrap_servers=cluster.admin_bootstrap, security_protocol="SSL",
                               ssl_context=context)


async def _delete_topics(cluster: Cluster, prefixes: tuple[str, ...]) -> None:
    admin = _admin(cluster)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefixes)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


async def _create_topics(cluster: Cluster, topics: dict[str, int], compacted: set[str]) -> None:
    from aiokafka.admin import NewTopic

    admin = _admin(cluster)
    await admin.start()
    try:
        configs = {"min.insync.replicas": "2", "unclean.leader.election.enable": "false"}
        await admin.create_topics([NewTopic(name, parts, 3, topic_configs={
            **configs, **(state_store.TOPIC_CONFIG if name in compacted else {})}) for name, parts in topics.items()])
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def broker(stack_settings):
    yield from running(SecureBroker(stack_settings))


def running(service):
    """The rehearsal's Kafka cluster or broker, up for the module's tests, stopped by pid file after."""
    service.up()
    yield service
    service.down()


def start_rehearsal(tmp_path, unique, database_url, stack_settings, cluster, broker, access_for=None,
                    zone: Namespace | None = None):
    """The platform on the rehearsal's cluster and broker; with `zone`, the second streams worker runs in
    that network namespace and reaches Kafka through it."""
    users = {"gateway": "citysense-gateway", "streams": "citysense-streams", "sink": "citysense-sink"}
    operator = prepare(cluster)

    def before_start(p) -> None:
        operator(p)
        if zone:
            p.zones["streams-2"] = zone
            p.instance_env["streams-2"] = cluster.client_env("citysense-streams", zone=True)

    return cleaned_up(cluster, running_platform(
        tmp_path, unique, database_url, stack_settings, cluster.bootstrap,
        service_env={s: cluster.client_env(u) for s, u in users.items()}, before_start=before_start, pairs=True,
        access_for=access_for or broker.access))


@contextmanager
def cleaned_up(cluster: Cluster, platform):
    """The platform, and afterwards its topics deleted: the cluster carries only the running test's
    (each test's would otherwise add ~150 partitions for the one broker left by a fault to lead)."""
    with platform as p:
        yield p
    asyncio.run(_delete_topics(cluster, (f"{p.root}.", p.env["CITYSENSE_STREAMS_APP_ID"])))


@pytest.fixture
def rehearsal(tmp_path, unique, database_url, stack_settings, cluster, broker):
    with start_rehearsal(tmp_path, unique, database_url, stack_settings, cluster, broker) as p:
        p.start("api")
        p.wait_healthy("api")
        yield p
        assert_database_sessions_use_tls(p, stack_settings)


def assert_database_sessions_use_tls(p, stack_settings) -> None:
    """Every session the services hold on the fault's database is encrypted, as its least-privilege role."""
    database = psycopg.conninfo.conninfo_to_dict(p.dsn)["dbname"]
    with psycopg.connect(superuser_dsn(stack_settings)) as conn:  # other roles' TLS state is hidden from the owner
        rows = conn.execute("""SELECT a.usename, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                                WHERE a.datname = %s""", (database,)).fetchall()
    users = {u for u, _ in rows}
    assert {"citysense_sink", "citysense_ro", "citysense_api"} <= users, f"sessions: {rows}"
    assert all(ok for _, ok in rows), f"sessions without TLS: {[u for u, ok in rows if not ok]}"


def gateway_metric(p, name: str) -> float:
    status, body = http_get(f"http://127.0.0.1:{p.ports['gateway']}/metrics")
    assert status == 200
    return float(re.search(rf"^{name} (\S+)$", body, re.M).group(1))


@pytest.mark.timeout(600)
def test_one_broker_killed_under_load_loses_nothing(rehearsal, cluster):
    def fault() -> None:
        cluster.kill(2, signal.SIGKILL)
        time.sleep(8)
        cluster.start(2)

    run_fault(rehearsal, "SIGKILL 1 of 3 Kafka brokers", fault, cluster.bootstrap)


@pytest.mark.timeout(600)
def test_a_brokers_disk_turned_read_only_loses_nothing(rehearsal, cluster):
    """The disk of node 2 "full": its data directory remounted read-only under it (a bind mount — file
    permissions do not stop root). Kafka fails its next checkpoint, takes the directory offline and,
    with no other, stops; the other two lead. Then the disk is writable again and the node returns."""
    data = cluster.root / "node-2" / "data"
    state = {}

    def fault() -> None:
        subprocess.run(["mount", "--bind", str(data), str(data)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(data)], check=True)
            state["stopped"] = wait_until(lambda: cluster.pid(2) is None, 60, 0.5)
        finally:
            subprocess.run(["umount", str(data)], check=True)
        cluster.start(2)

    run_fault(rehearsal, "1 of 3 brokers' disk read-only", fault, cluster.bootstrap)
    assert state["stopped"], "node 2 kept running on a read-only disk"
    log = cluster.log_file(2).read_text(errors="replace")
    assert "Read-only file system" in log or "offline" in log


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", ["gateway-2", "streams-2"])
def test_one_of_two_replicas_killed_loses_nothing(rehearsal, cluster, service):
    """A gateway of two: its session's messages wait for it (Mosquitto keeps them with the session);
    a streams worker of two: its partitions move to the other (a rebalance), state from its topics."""
    def fault() -> None:
        rehearsal.kill(service)
        time.sleep(20)
        rehearsal.start(service)

    run_fault(rehearsal, f"SIGKILL {service.replace('-2', '')} 1 of 2", fault, cluster.bootstrap)


@pytest.mark.timeout(600)
def test_two_brokers_down_stop_every_acknowledgement_until_they_return(rehearsal, cluster):
    held = {}

    def fault() -> None:
        cluster.kill(2, signal.SIGKILL)
        cluster.kill(3, signal.SIGKILL)
        time.sleep(6)  # what Kafka had acknowledged before is acknowledged to MQTT by now
        before = gateway_metric(rehearsal, "citysense_gateway_mqtt_acks_total")
        time.sleep(12)
        held["acks"] = gateway_metric(rehearsal, "citysense_gateway_mqtt_acks_total") - before
        held["in_flight"] = gateway_metric(rehearsal, "citysense_gateway_in_flight_messages")
        cluster.start(2)
        cluster.start(3)

    result = run_fault(rehearsal, "2 of 3 Kafka brokers down", fault, cluster.bootstrap)
    assert held["acks"] == 0, f"the gateway acknowledged {held['acks']:.0f} messages with 2 of 3 brokers down"
    assert held["in_flight"] > 0  # it was holding messages it had received: the devices kept publishing
    assert result["missing"] == 0


@pytest.mark.timeout(600)
def test_device_revoked_and_device_added_under_load(tmp_path, unique, database_url, stack_settings, cluster, broker):
    """Accounts change while the broker runs (the dynamic-security plugin): one device's account is
    revoked — it is disconnected and refused from then on — and a new device's account is created and it
    starts publishing; the broker is not restarted and no other device is disconnected. Everything the
    broker acknowledged, the revoked device's earlier readings and the new device's, is stored once."""
    spare = {}

    def provision_all_but_the_last(ids: list[str]):
        spare["id"] = ids[-1]
        return broker.access(ids[:-1])

    with start_rehearsal(tmp_path, unique, database_url, stack_settings, cluster, broker,
                         access_for=provision_all_but_the_last) as p:
        revoked, (added, district) = p.devices[0][0], p.devices[-1]
        assert added == spare["id"] and added not in broker.admin.clients()
        load = DeviceLoad(p.access, p.devices[:-1], p.root)
        broker_pid = broker.pid()

        def fault() -> None:
            load.remove(revoked)  # its last messages acknowledged first: a PUBACK lost in the disconnection
            wait_until(lambda: load.unacknowledged_of_removed == 0, 5, 0.05)  # would make a stored one "extra"
            broker.admin.revoke_devices([revoked])
            p.access.devices[added] = broker.access([added]).devices[added]
            load.add(added, district)
            time.sleep(3)

        result = run_fault(p, "device revoked+added dynsec", fault, cluster.bootstrap, load=load)
        assert broker.pid() == broker_pid, "the broker restarted"
        assert load.refused.get(revoked, 0) >= 1, "the revoked device was not refused when it reconnected"
        others = {d: n for d, n in load.disconnects.items() if d != revoked}
        assert not others, f"devices disconnected by the account changes: {others}"
        by_device = Counter(d for d, _ in load.acked)
        assert by_device[added] > 50, f"the new device's readings acknowledged: {by_device[added]}"
        assert 0 < by_device[revoked] < min(n for d, n in by_device.items() if d not in (revoked, added))
        assert revoked not in broker.admin.clients() and added in broker.admin.clients()
        assert result["missing"] == 0


@pytest.mark.timeout(600)
def test_a_streams_worker_cut_off_from_kafka_comes_back_a_zombie(tmp_path, unique, database_url, stack_settings,
                                                                 cluster, broker, zone):
    """The second streams worker runs in its own network namespace; the link is cut (packets dropped, no
    error) for longer than the group's session timeout: the group gives its partitions to the first, which
    loads their state from the state topic. When the link heals, the cut-off worker still holds a batch
    it computed before: a zombie, whose writes must not spoil the new owner's state. Then both workers are
    restarted, so every partition's state is read back from the topic — the windows they close afterwards
    are checked against SQL like all others."""
    with start_rehearsal(tmp_path, unique, database_url, stack_settings, cluster, broker, zone=zone) as p:
        seen = {}

        def fault() -> None:
            seen["total"] = total = assigned(p, "streams") + assigned(p, "streams-2")
            # paused first, so that records Kafka sends it meanwhile wait in its socket: once the link is cut,
            # it resumes with a batch it cannot write
            p.procs["streams-2"].signal(signal.SIGSTOP)
            time.sleep(1.5)
            zone.cut()
            p.procs["streams-2"].signal(signal.SIGCONT)
            # the session timeout is 10 s: then the first worker owns every partition
            seen["took_over"] = wait_until(lambda: assigned(p, "streams") == total, 60, 0.5)
            time.sleep(3)  # the new owner writes its own states for a while
            zone.heal()
            time.sleep(10)  # the zombie flushes its results, learns it was evicted, drops its batch, rejoins
            seen["zombie_log"] = p.procs["streams-2"].log_file.read_text(errors="replace")
            for name in ("streams", "streams-2"):
                p.kill(name)
            for name in ("streams", "streams-2"):
                p.start(name)
            for name in ("streams", "streams-2"):
                p.wait_healthy(name)

        run_fault(p, "streams worker partitioned", fault, cluster.bootstrap)
        assert seen["total"] > 0 and seen["took_over"], f"no takeover of the cut-off worker's partitions: {seen}"
        # it held a batch when it was cut off, and did not write its states once back
        assert "batch abandoned" in seen["zombie_log"], "the cut-off worker wrote the states of its batch"


def assigned(p, name: str) -> int:
    status, body = http_get(f"http://{p.host(name)}:{p.ports[name]}/healthz")
    return json.loads(body).get("assigned_partitions", -1) if status in (200, 503) else -1
