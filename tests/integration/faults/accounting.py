"""The fault suite's accounting, shared by the single-broker faults (test_faults.py) and the production
rehearsal's (test_cluster.py): under a steady device load, one fault; then every reading the broker
acknowledged stored exactly once (by device sequence numbers), the stored aggregates and roll-ups
equal to the recomputation from the stored raw readings, and the recovery time, into the table."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import psycopg
import pytest

from streams.messages import iso
from telemetry.areas import AreaRegistry
from tests.integration.oracle import check_rollups, closed_by, compare_both_ways, sql_windows

from .conftest import RESULTS
from .diagnosis import exit_status, explain, window_readings
from .load import DeviceLoad

METRICS = ("pm2_5", "pm10", "no2")
BEFORE_S = 12  # load before the fault
AFTER_S = 15  # load after the fault is over
RECOVERY_MAX_S = 150
WINDOWS_SETTLE_S = 90  # after every reading is stored, until the windows and roll-ups equal SQL


def count(dsn: str) -> int:
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            return conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    except psycopg.OperationalError:
        return -1  # PostgreSQL restarting


def stored_readings(dsn: str) -> list[dict]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"""SELECT device_id, district, seq, status, extract(epoch FROM ts) * 1000,
                                       extract(epoch FROM received_at) * 1000, {", ".join(METRICS)}
                                FROM readings ORDER BY ts, device_id""").fetchall()
    return [{"device_id": r[0], "district": r[1], "seq": r[2], "status": r[3], "kind": "air_quality",
             "ts_ms": int(round(r[4])), "received_ms": int(round(r[5])),
             "metrics": {m: v for m, v in zip(METRICS, r[6:]) if v is not None}} for r in rows]


def stored_aggregates(dsn: str, level: str = "commune") -> list[dict]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("""SELECT district, metric, window_s, extract(epoch FROM window_start) * 1000,
                                      count, min, max, sum, mean, excluded FROM aggregates WHERE level = %s""",
                            (level,)).fetchall()
    return [{"district": r[0], "metric": r[1], "window_s": r[2], "window_start": iso(int(round(r[3]))), "count": r[4],
             "min": r[5], "max": r[6], "sum": r[7], "mean": r[8], "excluded": r[9], "level": level} for r in rows]


def wait_stored(dsn: str, target: int, timeout_s: float) -> float | None:
    """Seconds until `target` readings were stored, None if not within `timeout_s`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if count(dsn) >= target:
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def run_fault(platform, name: str, fault: Callable[[], None], kafka_bootstrap: str,
              load: DeviceLoad | None = None) -> dict:
    """Load (by default every device of the platform), the fault, then the accounting; fails the test
    on anything lost, doubled or wrong."""
    load = load or DeviceLoad(platform.access, platform.devices, platform.root)
    load.start()
    time.sleep(BEFORE_S)
    fault()
    ended = time.monotonic()
    recovery = wait_stored(platform.dsn, load.acked_count, RECOVERY_MAX_S)
    time.sleep(max(0.0, AFTER_S - (time.monotonic() - ended)))
    load.stop(timeout_s=60)
    published = set(load.acked)
    expected = load.sent - load.unacknowledged_of_removed  # a revoked device's last unacknowledged ones
    assert len(published) == expected, f"the broker acknowledged {len(published)} of {expected} messages"

    # Stalled already (no recovery): a short last wait, then the diagnosis, within the test's timeout.
    wait_stored(platform.dsn, len(published), 60 if recovery is not None else 10)
    time.sleep(3)  # anything more (a duplicate) would have arrived by now
    readings = stored_readings(platform.dsn)
    stored = {(r["device_id"], r["seq"]) for r in readings}  # one row per (device, ts): a unique key
    missing = published - stored
    extra = stored - published
    with psycopg.connect(platform.dsn) as conn:
        redelivered = conn.execute("SELECT coalesce(sum(deliveries - 1), 0) FROM readings").fetchone()[0]

    # The oracle: SQL over the stored raw readings; every window the final watermark closed must be
    # there. Lateness is 600 s of event time; a late duplicate (a redelivery after its window closed)
    # is the same reading, counted on time: only readings whose one delivery was late are left out (with
    # two gateways, one's queued messages arrive after the other's moved the watermark: truly late).
    # Every reading is stored by now; the streams may still be working through what a fault held back
    # (a worker that lost its partitions loads their state and replays): the windows must converge to SQL
    # within WINDOWS_SETTLE_S, how long they took is reported, and what is still wrong then fails the test.
    # The oracle is recomputed on every look, not once: a worker catching up finds readings late that it
    # had not reached yet, and their rows in late_readings arrive with its windows (an oracle computed
    # before them counted those readings on time and waited for windows that would never hold them).
    # The roll-ups of the former districts and the city equal SQL too, once the two more hops (commune
    # partials -> groups -> city -> sink) have carried the communes' last windows.
    def problems() -> list[str]:
        watermarks = closed_by(platform.dsn, 600)
        return compare_both_ways(sql_windows(platform.dsn, (60, 900, 3600), exclude_late="once"),
                                 stored_aggregates(platform.dsn), watermarks) + [
            p for level in ("group", "city") for p in check_rollups(
                platform.dsn, (60, 900, 3600), stored_aggregates(platform.dsn, level), watermarks,
                AreaRegistry.named(), level, exclude_late="once")[0]]

    settle_started = time.monotonic()
    while (wrong := problems()) and time.monotonic() - settle_started < WINDOWS_SETTLE_S:
        time.sleep(1)
    settled_s = time.monotonic() - settle_started
    emitted = stored_aggregates(platform.dsn)
    with psycopg.connect(platform.dsn) as conn:
        late = conn.execute("SELECT count(*) FROM late_readings").fetchone()[0]
    RESULTS.append({"fault": name, "published": len(published), "stored": len(readings), "missing": len(missing),
                    "extra": len(extra), "redelivered": redelivered, "late": late, "windows": len(emitted),
                    "wrong_windows": len(wrong), "settled_s": round(settled_s, 1), "recovery_s": recovery if recovery is not None else float("nan")})
    logs = {name: p.log_file for name, p in platform.procs.items()}
    if missing:
        with psycopg.connect(platform.dsn) as conn:
            rejects = conn.execute("SELECT reason, count(*) FROM deadletters GROUP BY 1").fetchall()
        by_device = Counter(d for d, _ in missing)
        pytest.fail(f"{len(missing)} acknowledged readings never stored (by device {dict(by_device)}, e.g. "
                    f"{sorted(missing)[:3]}); dead letters by reason {rejects}; "
                    f"{explain(platform, kafka_bootstrap, missing)}")
    assert not extra, f"stored but never acknowledged by the broker: {sorted(extra)[:5]}"
    assert not wrong, (f"{len(wrong)} stored aggregates differ from the recomputation: {wrong[:5]}; "
                       f"{window_readings(platform.dsn, wrong)}; logs {logs}")
    assert len(emitted) > 100, "too few windows closed to compare"
    assert recovery is not None
    # The fault must not have taken down a service it did not target (each killed one was restarted).
    gone = {name: exit_status(p) for name, p in platform.procs.items() if exit_status(p) != "running"}
    assert not gone, f"services ended during the fault: {gone}; logs {logs}"
    return RESULTS[-1]
