"""Fault suite: under a steady device load, one fault at a time (SIGKILL of each service, restarts of
Kafka, Mosquitto and PostgreSQL, Kafka down 30 s). Afterwards every reading the broker acknowledged
is stored exactly once (by device sequence numbers) and the stored aggregates equal the
recomputation from the stored raw readings. The table is printed at the end of the run."""

from __future__ import annotations

import time

import pytest

from stack import kafka, mosquitto, postgres

from .accounting import run_fault

pytestmark = pytest.mark.faults


def kill_and_restart(name: str):
    def fault(platform, settings) -> None:
        platform.kill(name)
        time.sleep(2)
        platform.start(name)
    return fault


def restart(module, down_s: float = 0.0):
    def fault(platform, settings) -> None:
        module.down(settings)
        time.sleep(down_s)
        module.up(settings)
    return fault


FAULTS = {
    "SIGKILL gateway": kill_and_restart("gateway"),
    "SIGKILL streams worker": kill_and_restart("streams"),
    "SIGKILL sink": kill_and_restart("sink"),
    "restart Kafka": restart(kafka),
    "restart Mosquitto": restart(mosquitto),
    "restart PostgreSQL": restart(postgres),
    "Kafka down 30 s": restart(kafka, 30.0),
}


@pytest.mark.timeout(420)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_nothing_lost_nothing_doubled(platform, stack_settings, kafka_bootstrap, fault):
    run_fault(platform, fault, lambda: FAULTS[fault](platform, stack_settings), kafka_bootstrap)
