"""Security summaries: counted per client, one event per client per interval, bounded memory."""

import json

from gateway.security import OTHERS, SecurityMonitor, claimed_client
from telemetry.rejections import Reason


def test_one_summary_per_client_with_counts():
    mon = SecurityMonitor("gw1")
    for _ in range(150):
        mon.record(Reason.UNKNOWN_DEVICE, "citysense/v1/288/ghost/telemetry")
    mon.record(Reason.DISTRICT_MISMATCH, "citysense/v1/290/aq-288-01/telemetry")
    mon.record(Reason.OUT_OF_RANGE, "citysense/v1/288/aq-288-01/telemetry")  # not a security reason
    events = {k.decode(): json.loads(v) for k, v in mon.drain()}
    assert set(events) == {"ghost", "aq-288-01"}
    assert events["ghost"]["counts"] == {"unknown_device": 150} and events["ghost"]["flood"] is True
    assert events["aq-288-01"]["counts"] == {"district_mismatch": 1} and not events["aq-288-01"]["flood"]
    assert mon.drain() == []


def test_clients_beyond_the_bound_are_counted_together():
    mon = SecurityMonitor("gw1", max_clients=3)
    for i in range(10):
        mon.record(Reason.UNKNOWN_DEVICE, f"citysense/v1/288/dev{i}/telemetry")
    assert len(mon) == 4
    events = {k.decode(): json.loads(v) for k, v in mon.drain()}
    assert events[OTHERS]["total"] == 7


def test_claimed_client():
    assert claimed_client("citysense/v1/288/aq-1/telemetry") == "aq-1"
    assert claimed_client("weird") == "weird"
    assert claimed_client("") == "(empty topic)"
