"""CITYSENSE_…_FILE: a mounted secret becomes the variable; an explicit variable wins; a missing
file names the variable to fix."""

from __future__ import annotations

import pytest

from runtime import secret_files

pytestmark = pytest.mark.unit


def test_a_secret_file_becomes_its_variable(tmp_path):
    (tmp_path / "pw").write_text("s3cret\n")
    env = {"CITYSENSE_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "pw"), "CITYSENSE_API_PORT": "1",
           "OTHER_FILE": str(tmp_path / "pw"), "CITYSENSE_GATEWAY_MQTT_PASSWORD_FILE": str(tmp_path / "pw"),
           "CITYSENSE_GATEWAY_MQTT_PASSWORD": "explicit"}
    assert secret_files.load(env) == ["CITYSENSE_KAFKA_SASL_PASSWORD"]
    assert env["CITYSENSE_KAFKA_SASL_PASSWORD"] == "s3cret"  # the file's last newline dropped
    assert env["CITYSENSE_GATEWAY_MQTT_PASSWORD"] == "explicit" and "OTHER" not in env


def test_a_missing_file_names_the_variable(tmp_path):
    with pytest.raises(secret_files.SecretFileError, match="CITYSENSE_API_READ_DATABASE_URL_FILE"):
        secret_files.load({"CITYSENSE_API_READ_DATABASE_URL_FILE": str(tmp_path / "nope")})
