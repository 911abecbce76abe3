"""The operators' contract commands, run as a real subprocess (`citysense validate | devices | aqi`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

from telemetry.resources import data_path

# the packaged sample registry, whatever this machine's default registry holds (a demo rewrites it)
ENV = {**os.environ, "CITYSENSE_REGISTRY": str(data_path("devices.sample.json"))}


def run(*args: str, stdin: bytes = b"") -> tuple[int, dict | list]:
    out = subprocess.run([sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, timeout=60,
                         env=ENV)
    return out.returncode, json.loads(out.stdout)


def test_validate_accepts():
    ts = datetime.now(timezone.utc).isoformat()
    rc, out = run("validate", "--topic", "citysense/v1/288/aq-288-01/telemetry",
                  stdin=json.dumps({"ts": ts, "metrics": {"pm2_5": 41.3}}).encode())
    assert rc == 0 and out["accepted"] is True
    assert out["readings"][0]["metrics"] == {"pm2_5": 41.3} and out["readings"][0]["district"] == 288


def test_validate_rejects_with_reason(tmp_path):
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [{"device_id": "x1", "district": 1, "kind": "noise"}]}))
    rc, out = run("validate", "--topic", "citysense/v1/2/x1/telemetry", "--registry", str(registry),
                  stdin=b'{"ts": 1, "metrics": {}}')
    assert rc == 1 and out == {"accepted": False, "reason": "district_mismatch", "message": out["message"]}


def test_devices_list_json():
    rc, out = run("devices", "list", "--json")
    assert rc == 0 and len(out["devices"]) >= 60


def test_aqi_hourly_and_daily():
    rc, out = run("aqi", "--hourly", stdin=json.dumps({"pm2_5": [80, 75, None, 60], "o3": 120}).encode())
    assert rc == 0
    assert out["aqi"] == out["sub_indices"]["pm2_5"] and out["dominant"] == "pm2_5"
    assert out["level"] == {"vi": "Kém", "en": "Poor"} and out["colour"] == [255, 126, 0]
    assert set(out) >= {"aqi", "level", "colour", "dominant", "sub_indices", "nowcast"}
    rc, out = run("aqi", "--daily", stdin=json.dumps({"pm2_5": 20, "o3_1h_max": 150, "o3_8h_max": 130}).encode())
    assert rc == 0 and out["aqi"] == 110 and out["dominant"] == "o3"


def test_a_device_on_its_former_districts_topic_is_accepted_by_validate(tmp_path):
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [{"device_id": "aq-thd-01", "district": 10507, "kind": "air_quality"}]}))
    ts = datetime.now(timezone.utc).isoformat()
    rc, out = run("validate", "--topic", "citysense/v1/288/aq-thd-01/telemetry", "--registry", str(registry),
                  stdin=json.dumps({"ts": ts, "metrics": {"pm2_5": 41.3}}).encode())
    assert rc == 0 and (out["readings"][0]["district"], out["readings"][0]["topic_area"]) == (10507, 288)
    rc, out = run("validate", "--topic", "citysense/v1/288/aq-thd-01/telemetry", "--registry", str(registry),
                  "--area-set", "hai-duong-2023", stdin=json.dumps({"ts": ts, "metrics": {"pm2_5": 41.3}}).encode())
    assert rc == 1 and out["reason"] == "district_mismatch"


def test_devices_list_names_each_device_s_area_and_group(tmp_path):
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"devices": [{"device_id": "aq-thd-01", "district": 10507, "kind": "air_quality"},
                                                {"device_id": "aq-x", "district": 4, "kind": "air_quality"}]}))
    rc, out = run("devices", "list", "--json", "--registry", str(registry))
    # Phường Thành Đông grew from Thành phố Hải Dương (288): ../shared/reference/haiphong-2025-units.csv
    assert rc == 0 and out["areas"]["10507"] == {"name": "Phường Thành Đông", "level": "commune", "group": 288,
                                                  "group_name": "Thành phố Hải Dương (cũ)"}
    assert out["areas"]["4"]["name"] is None
    text = subprocess.run([sys.executable, "-m", "cli.main", "devices", "list", "--registry", str(registry)],
                          capture_output=True, text=True, timeout=60).stdout
    assert "Phường Thành Đông" in text and "Thành phố Hải Dương (cũ)" in text and "not in hai-phong-2025" in text


def test_areas_list_and_locate():
    rc, out = run("areas", "list", "--json", "--under", "288")
    assert rc == 0 and len(out) == 8 and {a["group"] for a in out} == {288}
    rc, out = run("areas", "list", "--json", "--level", "group")
    assert rc == 0 and len(out) == 27
    rc, out = run("areas", "locate", "20.96038", "106.32625", "--json")
    assert rc == 0 and out["code"] == 10507
    rc, out = run("areas", "locate", "106.32625", "20.96038", "--json")
    assert rc == 1 and "nearest" in out["error"]
