"""Soak: Mosquitto restarted many times under the fault suite's device load. After each restart the
gateway must be healthy again (connected and subscribed) within 20 s; at the end every reading the
broker acknowledged must be stored exactly once. Off unless CITYSENSE_SOAK_RESTARTS is set (it
takes ~3.5 min per 25 restarts); it is how the gateway's silent death by SIGPIPE at a broker restart
(about 1 restart in 230) was caught:

    CITYSENSE_SOAK_RESTARTS=25 .venv/bin/pytest tests/integration/faults/test_broker_restarts.py -s
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest

from stack import mosquitto

from .diagnosis import exit_status, explain
from .load import DeviceLoad
from .accounting import stored_readings, wait_stored

RESTARTS = int(os.environ.get("CITYSENSE_SOAK_RESTARTS", "0"))
GAP_S = 2.0  # load between two restarts

pytestmark = [pytest.mark.faults,
              pytest.mark.skipif(RESTARTS <= 0, reason="a soak: set CITYSENSE_SOAK_RESTARTS to run it")]


@pytest.mark.timeout(120 + 10 * RESTARTS)
def test_gateway_survives_broker_restarts(platform, stack_settings, kafka_bootstrap):
    load = DeviceLoad(platform.access, platform.devices, platform.root)
    load.start()
    time.sleep(5)
    gateway = platform.procs["gateway"]
    for i in range(RESTARTS):
        mosquitto.down(stack_settings)
        mosquitto.up(stack_settings)
        try:
            platform.wait_healthy("gateway", timeout=20)
        except AssertionError:
            load.stop(timeout_s=5)
            pytest.fail(f"after broker restart {i + 1} of {RESTARTS} the gateway is not healthy "
                        f"({exit_status(gateway)}); {explain(platform, kafka_bootstrap, set(load.acked))}")
        time.sleep(GAP_S)
    load.stop(timeout_s=60)
    published = set(load.acked)
    assert len(published) == load.sent, f"the broker acknowledged {len(published)} of {load.sent} messages"
    wait_stored(platform.dsn, len(published), 90)
    time.sleep(3)  # a duplicate would have arrived by now
    per_seq = Counter((r["device_id"], r["seq"]) for r in stored_readings(platform.dsn))
    missing = published - set(per_seq)
    print(f"{RESTARTS} broker restarts: {len(published)} acknowledged, {len(per_seq)} stored, "
          f"{len(missing)} missing, {sum(n - 1 for n in per_seq.values())} doubled")
    assert not missing, (f"{len(missing)} acknowledged readings never stored; "
                         f"{explain(platform, kafka_bootstrap, missing)}")
    assert all(n == 1 for n in per_seq.values())
