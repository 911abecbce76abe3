"""deploy/compose, validated offline (no container engine runs here): the Compose Specification's schema
(deploy/schemas/compose-spec.json, with the jsonschema library), and policies checked against the code —
the variables are ones the settings read, every secret a service names is declared and mounted, state
lives in volumes, two gateways in one share group with their own client ids, Kafka replicated."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from tests.unit.deploy.conftest import DEPLOY, settings_variables

pytestmark = pytest.mark.unit
ONE_SHOT = {"migrate", "kafka-users"}


def errors(doc: dict) -> list[str]:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    return [e.message for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(doc)]


def test_the_compose_file_matches_the_compose_specification(compose):
    assert errors(compose) == []
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["restart"] = {"policy": "sometimes"}
    broken["services"]["sink"]["deploy"]["resources"]["limits"]["memroy"] = "1g"
    assert len(errors(broken)) >= 2  # the schema can fail


def test_services_restart_are_limited_and_keep_state_in_volumes(compose):
    services = compose["services"]
    assert {"kafka-1", "kafka-2", "kafka-3", "mosquitto", "timescaledb", "gateway-1", "gateway-2", "streams-1",
            "streams-2", "sink", "api", "prometheus", "grafana"} <= set(services)
    for name, s in services.items():
        if name in ONE_SHOT:
            assert s["restart"] == "no"
            continue
        assert s["restart"] == "unless-stopped", name
        assert s["deploy"]["resources"]["limits"]["memory"], name
    stateful = {"kafka-1": "/var/lib/kafka/data", "kafka-2": "/var/lib/kafka/data", "kafka-3": "/var/lib/kafka/data",
                "mosquitto": "/mosquitto/data", "timescaledb": "/var/lib/postgresql/data",
                "streams-1": "/var/lib/citysense/streams", "streams-2": "/var/lib/citysense/streams",
                "prometheus": "/prometheus", "grafana": "/var/lib/grafana"}
    for name, path in stateful.items():
        mounts = [v for v in services[name]["volumes"] if v.split(":")[1] == path]
        assert mounts and mounts[0].split(":")[0] in compose["volumes"], name
    assert services["streams-1"]["volumes"] != services["streams-2"]["volumes"]


def test_kafka_three_brokers_replicated_and_secured(compose):
    brokers = {n: s for n, s in compose["services"].items() if re.fullmatch(r"kafka-\d", n)}
    assert len(brokers) == 3 and len({b["environment"]["KAFKA_NODE_ID"] for b in brokers.values()}) == 3
    for b in brokers.values():
        env = b["environment"]
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3" and env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller" and env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
        assert "PLAINTEXT" not in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    for name in ("gateway-1", "gateway-2", "streams-1", "streams-2", "sink", "api"):
        env = compose["services"][name]["environment"]
        assert env["CITYSENSE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["CITYSENSE_KAFKA_REPLICATION_FACTOR"] == "3"
    users = {compose["services"][n]["environment"]["CITYSENSE_KAFKA_SASL_USERNAME"]
             for n in ("gateway-1", "streams-1", "sink", "api")}
    assert len(users) == 4  # one user per service
    acls = (DEPLOY / "compose" / "kafka" / "acls.sh").read_text()
    assert all(f"user {u} " in acls for u in users)


def test_two_gateways_share_the_subscription_with_their_own_ids(compose):
    gateways = [compose["services"][n]["environment"] for n in ("gateway-1", "gateway-2")]
    assert {g["CITYSENSE_GATEWAY_SHARE_GROUP"] for g in gateways} == {"citysense-gateway"}
    assert len({g["CITYSENSE_GATEWAY_CLIENT_ID"] for g in gateways}) == 2


def test_secrets_are_files_declared_and_mounted(compose):
    known = settings_variables()
    for name, s in compose["services"].items():
        env = s.get("environment") or {}
        mounted = set(s.get("secrets") or [])
        assert mounted <= set(compose["secrets"]), name
        for key, value in env.items():
            assert not re.search(r"PASSWORD$|_URL$", key) or key.endswith("PUBLIC_URL"), (name, key)  # no secret inline
            if key.startswith("CITYSENSE_"):
                assert key.removesuffix("_FILE") in known, (name, key)
            for secret in re.findall(r"/run/secrets/([\w.-]+)", str(value)):
                assert secret in mounted, (name, key, secret)
    for path in (DEPLOY / "compose").rglob("*"):
        if path.suffix in (".yaml", ".yml", ".conf", ".sh"):
            for secret in re.findall(r"/run/secrets/([\w.-]+)", path.read_text()):
                assert secret in compose["secrets"], (path.name, secret)
    script = (DEPLOY / "compose" / "make-secrets.sh").read_text()
    for secret, spec in compose["secrets"].items():
        assert spec["file"].startswith("./secrets/")
        stem = secret.removesuffix(".crt").removesuffix(".key").removesuffix(".pem")
        assert stem.removeprefix("kafka-") in script or secret in script, secret  # make-secrets.sh makes it
