"""deploy/k8s, validated offline: kustomize renders it; kubernetes-validate --strict checks the core kinds;
the custom resources (Strimzi, CloudNativePG, KEDA) are checked against their CRD schemas (copied into
deploy/schemas/crd — kubernetes-validate only warns on unknown kinds); and policy tests check what no
schema does, each against an independent source (the topic names the code uses, the ports its
settings default to, the variables its settings read)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from api.settings import ApiSettings
from gateway.settings import GatewaySettings
from storage.settings import StorageSettings
from streams import state_store
from streams.settings import StreamsSettings
from telemetry.topics import KafkaTopics
from tests.unit.deploy.conftest import DEPLOY, settings_variables

pytestmark = pytest.mark.unit
CRDS = {("kafka.strimzi.io/v1", "Kafka"): "kafka.strimzi.io/kafka_v1.json",
        ("kafka.strimzi.io/v1", "KafkaNodePool"): "kafka.strimzi.io/kafkanodepool_v1.json",
        ("kafka.strimzi.io/v1", "KafkaTopic"): "kafka.strimzi.io/kafkatopic_v1.json",
        ("kafka.strimzi.io/v1", "KafkaUser"): "kafka.strimzi.io/kafkauser_v1.json",
        ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io/cluster_v1.json",
        ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh/scaledobject_v1alpha1.json"}
PORTS = {"gateway": GatewaySettings().metrics_port, "streams": StreamsSettings().metrics_port,
         "sink": StorageSettings().metrics_port, "api": ApiSettings().port}


def crd_errors(doc: dict) -> list[str]:
    schema = json.loads((DEPLOY / "schemas" / "crd" / CRDS[(doc["apiVersion"], doc["kind"])]).read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in validator.iter_errors(doc)]


def of(rendered: list[dict], kind: str) -> list[dict]:
    return [d for d in rendered if d["kind"] == kind]


def test_core_kinds_pass_kubernetes_validate_strict(rendered, tmp_path):
    core = [d for d in rendered if (d["apiVersion"], d["kind"]) not in CRDS]
    assert {d["kind"] for d in core} >= {"Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "NetworkPolicy",
                                         "Job", "ConfigMap", "Namespace"}
    (tmp_path / "core.yaml").write_text(yaml.safe_dump_all(core))
    done = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", "1.33.0",
                           str(tmp_path / "core.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # and it can fail: a field Kubernetes does not have
    broken = copy.deepcopy(of(core, "Deployment")[0])
    broken["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    assert subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", "1.33.0",
                           str(tmp_path / "broken.yaml")], capture_output=True, text=True).returncode != 0


def test_custom_resources_match_their_crd_schemas(rendered):
    custom = [d for d in rendered if (d["apiVersion"], d["kind"]) in CRDS]
    assert {d["kind"] for d in custom} == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster", "ScaledObject"}
    for doc in custom:
        assert crd_errors(doc) == [], (doc["kind"], doc["metadata"]["name"])
    kafka = copy.deepcopy(next(d for d in custom if d["kind"] == "Kafka"))
    kafka["spec"]["kafka"]["listeners"][0]["type"] = "sideways"
    assert crd_errors(kafka)  # the schemas can fail


def test_kafka_is_replicated_three_times_with_two_in_sync(rendered):
    kafka = of(rendered, "Kafka")[0]["spec"]["kafka"]
    assert kafka["config"]["default.replication.factor"] == 3 and kafka["config"]["min.insync.replicas"] == 2
    assert kafka["config"]["unclean.leader.election.enable"] is False
    assert kafka["listeners"][0]["tls"] and kafka["listeners"][0]["authentication"]["type"] == "scram-sha-512"
    pool = of(rendered, "KafkaNodePool")[0]["spec"]
    assert pool["replicas"] == 3 and set(pool["roles"]) == {"controller", "broker"}  # KRaft, no ZooKeeper
    for topic in of(rendered, "KafkaTopic"):
        assert topic["spec"]["replicas"] == 3 and topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["spec"]["config"]["unclean.leader.election.enable"] is False


def test_the_topics_are_the_ones_the_code_uses(rendered):
    t = KafkaTopics("citysense")
    app = StreamsSettings().app_id
    used = {t.readings, t.deadletter, t.security_events, t.device_health, t.aggregates, t.aqi, t.alerts, t.late,
            t.partials, "citysense.alert-actions.v1", state_store.state_topic(app), state_store.rollup_state_topic(app)}
    declared = {d["metadata"]["name"]: d["spec"] for d in of(rendered, "KafkaTopic")}
    assert set(declared) == used
    assert declared[t.readings]["partitions"] == StreamsSettings().partitions
    for name in (state_store.state_topic(app), state_store.rollup_state_topic(app)):
        assert {k: str(v) for k, v in declared[name]["config"].items() if k in state_store.TOPIC_CONFIG} == \
            state_store.TOPIC_CONFIG


def test_each_service_user_may_do_only_its_part(rendered):
    acls = {u["metadata"]["name"]: u["spec"]["authorization"]["acls"] for u in of(rendered, "KafkaUser")}
    t = KafkaTopics("citysense")
    gateway = {(a["resource"].get("name"), op) for a in acls["citysense-gateway"] for op in a["operations"]}
    assert gateway == {(n, op) for n in (t.readings, t.deadletter, t.security_events, t.device_health)
                       for op in ("Write", "Describe")} | {(None, "IdempotentWrite")}
    assert {op for a in acls["citysense-sink"] for op in a["operations"]} == {"Read", "Describe"}
    assert all(u["spec"]["authentication"]["type"] == "scram-sha-512" for u in of(rendered, "KafkaUser"))


def test_workloads_have_probes_resources_and_pinned_images(rendered):
    workloads = of(rendered, "Deployment") + of(rendered, "StatefulSet") + of(rendered, "Job")
    for w in workloads:
        for c in w["spec"]["template"]["spec"]["containers"]:
            image = c["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
            assert c["resources"]["requests"] and c["resources"]["limits"], w["metadata"]["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
    for d in of(rendered, "Deployment"):
        name = d["metadata"]["name"].removeprefix("citysense-")
        c = d["spec"]["template"]["spec"]["containers"][0]
        assert c["args"][0] == name
        port = next(p["containerPort"] for p in c["ports"] if p["name"] == "http")
        assert port == PORTS[name], name  # the port the service's settings listen on by default
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, (name, probe)
    for image in (DEPLOY / "docker" / "Dockerfile", DEPLOY / "k8s" / "images" / "cnpg-timescaledb" / "Dockerfile"):
        froms = [line.split()[1] for line in image.read_text().splitlines() if line.startswith(("FROM", "ARG PYTHON"))]
        assert all(":" in f or "$" in f or "=" in f for f in froms) and not any(f.endswith(":latest") for f in froms)


def test_every_multi_replica_workload_has_a_disruption_budget_and_anti_affinity(rendered):
    budgets = [p["spec"]["selector"]["matchLabels"] for p in of(rendered, "PodDisruptionBudget")]
    many = [w for w in of(rendered, "Deployment") + of(rendered, "StatefulSet") if w["spec"]["replicas"] > 1]
    assert len(many) == 4
    for w in many:
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert any(b.items() <= labels.items() for b in budgets), w["metadata"]["name"]
        terms = w["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        term = terms["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"].items() <= labels.items()
    pool = of(rendered, "KafkaNodePool")[0]["spec"]["template"]["pod"]["affinity"]["podAntiAffinity"]
    assert pool["requiredDuringSchedulingIgnoredDuringExecution"]
    assert of(rendered, "Cluster")[0]["spec"]["affinity"]["podAntiAffinityType"] == "required"


def test_autoscalers_stay_within_the_partitions(rendered):
    partitions = {d["metadata"]["name"]: d["spec"]["partitions"] for d in of(rendered, "KafkaTopic")}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"] for s in of(rendered, "ScaledObject")}
    assert set(scaled) == {"citysense-streams", "citysense-sink", "citysense-gateway"}
    assert scaled["citysense-streams"]["maxReplicaCount"] <= partitions["citysense.readings.v1"]
    # the sink's group reads every topic: members beyond the largest topic's partitions would idle
    assert scaled["citysense-sink"]["maxReplicaCount"] <= max(partitions.values())
    deployments = {d["metadata"]["name"]: d["spec"]["replicas"] for d in of(rendered, "Deployment")}
    for name, spec in scaled.items():
        assert spec["minReplicaCount"] <= deployments[name] <= spec["maxReplicaCount"]


def test_network_policies_let_only_whom_they_should(rendered):
    policies = {p["metadata"]["name"]: p["spec"] for p in of(rendered, "NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    service_listener = [rule for rule in policies["mosquitto"]["ingress"] if {"protocol": "TCP", "port": 8884}
                        in rule["ports"]]
    assert service_listener == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name":
                                                                               "citysense-gateway"}}}],
                                 "ports": [{"protocol": "TCP", "port": 8884}]}]
    database = policies["database-clients"]["ingress"][0]["from"]
    names = {f["podSelector"]["matchLabels"].get("app.kubernetes.io/name") for f in database if "podSelector" in f}
    assert names == {"citysense-sink", "citysense-api", "citysense-migrate", None}  # None: the instances
    kafka = policies["kafka-clients"]["ingress"][0]
    assert kafka["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "citysense"}}}]
    # the gateway, streams, sink and API pods are part-of citysense; the broker and database pods are not
    parts = {d["metadata"]["name"] for d in of(rendered, "Deployment")
             if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/part-of") == "citysense"}
    assert parts == {"citysense-gateway", "citysense-streams", "citysense-sink", "citysense-api"}


def test_only_real_variables_are_set(rendered):
    known = settings_variables()
    for d in of(rendered, "Deployment") + of(rendered, "Job"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            for env in c.get("env", []):
                name = env["name"].removesuffix("_FILE")
                assert name in known, (d["metadata"]["name"], env["name"])


def test_yaml_is_lint_clean():
    files = sorted(str(p) for p in DEPLOY.rglob("*.yaml")) + sorted(str(p) for p in DEPLOY.rglob("*.yml"))
    done = subprocess.run([sys.executable, "-m", "yamllint", "-c", str(DEPLOY / ".yamllint"), *files],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

