"""Kafka security settings turn into aiokafka and Faust options; SASL without credentials is refused."""

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from runtime.kafka_security import KafkaSecurity
from storage.settings import StorageSettings
from streams.settings import StreamsSettings


def test_plaintext_by_default():
    s = KafkaSecurity()
    assert s.kafka_client_options() == {"security_protocol": "PLAINTEXT"}
    assert s.faust_credentials() is None


def test_sasl_ssl_from_the_shared_variables(monkeypatch):
    monkeypatch.setenv("CITYSENSE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CITYSENSE_KAFKA_SASL_USERNAME", "citysense-gateway")
    monkeypatch.setenv("CITYSENSE_KAFKA_SASL_PASSWORD", "s3cret")
    for settings in (GatewaySettings(), StreamsSettings(), StorageSettings()):
        options = settings.kafka_client_options()
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_username"] == "citysense-gateway" and options["sasl_plain_password"] == "s3cret"
        assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
        assert "s3cret" not in repr(settings)
    credentials = StreamsSettings().faust_credentials()
    assert credentials.username == "citysense-gateway" and credentials.mechanism.value == "SCRAM-SHA-512"


def test_sasl_without_credentials_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setenv("CITYSENSE_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValidationError, match="CITYSENSE_KAFKA_SASL_USERNAME"):
        KafkaSecurity()


def test_topics_are_created_with_the_platforms_replication(monkeypatch):
    monkeypatch.setenv("CITYSENSE_KAFKA_REPLICATION_FACTOR", "3")
    from api.settings import ApiSettings
    from gateway.settings import GatewaySettings
    from storage.settings import StorageSettings
    from streams.settings import StreamsSettings

    for settings in (GatewaySettings(), StorageSettings(), ApiSettings(), StreamsSettings()):
        assert settings.kafka_topic_defaults() == {
            "replication": 3, "defaults": {"min.insync.replicas": "2", "unclean.leader.election.enable": "false"}}
    assert StreamsSettings().topic_replication == 3  # Faust's own default would be 1
    monkeypatch.setenv("CITYSENSE_STREAMS_REPLICATION", "2")
    assert StreamsSettings().topic_replication == 2


def test_the_local_default_and_an_impossible_in_sync_count(monkeypatch):
    from gateway.settings import GatewaySettings

    assert GatewaySettings().kafka_topic_defaults()["replication"] == 1
    assert GatewaySettings().kafka_topic_defaults()["defaults"]["min.insync.replicas"] == "1"
    monkeypatch.setenv("CITYSENSE_KAFKA_MIN_INSYNC_REPLICAS", "2")
    with pytest.raises(ValueError, match="no write could ever be acknowledged"):
        GatewaySettings()
