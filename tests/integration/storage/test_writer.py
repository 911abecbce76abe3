"""The batch writer's two paths into `readings`: COPY straight into the table, and — when a batch meets
a row already stored or holds one twice — staging + ON CONFLICT, with the same stored result."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from storage.rows import READINGS, reading_row
from storage.writer import STAGED_AFTER_CONFLICT, BatchWriter
from tests.integration.storage.conftest import NOW

pytestmark = pytest.mark.integration


def row(device: str, minute: int, **metrics: float) -> tuple:
    at = NOW + timedelta(minutes=minute)
    return reading_row({"ts": at.isoformat(), "received_at": (at + timedelta(seconds=1)).isoformat(),
                        "device_id": device, "district": 288, "kind": "air_quality", "seq": minute,
                        "metrics": metrics or {"pm2_5": 10.0 + minute}})


def stored(dsn: str) -> dict[tuple[str, int], tuple]:
    with psycopg.connect(dsn) as conn:
        return {(d, int((t - NOW).total_seconds() // 60)): (pm, no2, n) for d, t, pm, no2, n in conn.execute(
            "SELECT device_id, ts, pm2_5, no2, deliveries FROM readings")}


async def test_a_batch_meeting_a_stored_row_is_merged_and_counted_not_refused(test_db):
    w = BatchWriter(test_db, [READINGS])
    try:
        assert await w.write({READINGS: [row("aq-288-01", m) for m in range(3)]}) == {"readings": 3}
        assert w.direct_conflicts == 0
        # minute 1 again, bringing NO2 as well; minute 3 new
        again = [row("aq-288-01", 1, pm2_5=99.0, no2=4.0), row("aq-288-01", 3)]
        assert await w.write({READINGS: again}) == {"readings": 2}  # one updated, one inserted
        assert w.direct_conflicts == 1
    finally:
        await w.close()
    assert stored(test_db) == {("aq-288-01", 0): (10.0, None, 1), ("aq-288-01", 1): (11.0, 4.0, 2),
                               ("aq-288-01", 2): (12.0, None, 1), ("aq-288-01", 3): (13.0, None, 1)}


async def test_the_same_reading_twice_in_one_batch_is_stored_once(test_db):
    w = BatchWriter(test_db, [READINGS])
    try:
        await w.write({READINGS: [row("aq-288-01", 0), row("aq-290-01", 0), row("aq-288-01", 0)]})
        assert w.direct_conflicts == 1
    finally:
        await w.close()
    assert stored(test_db) == {("aq-288-01", 0): (10.0, None, 2), ("aq-290-01", 0): (10.0, None, 1)}


async def test_after_a_conflict_batches_go_staged_for_a_while_then_straight_again(test_db):
    w = BatchWriter(test_db, [READINGS])
    try:
        await w.write({READINGS: [row("aq-288-01", 0)]})
        await w.write({READINGS: [row("aq-288-01", 0), row("aq-288-01", 1)]})  # meets minute 0
        assert (w.direct_conflicts, w.staged_left) == (1, {"readings": STAGED_AFTER_CONFLICT})
        # a redelivery going on: these batches are not tried straight (no second conflict counted)
        for minute in range(STAGED_AFTER_CONFLICT):
            await w.write({READINGS: [row("aq-288-01", minute)]})
        assert (w.direct_conflicts, w.staged_left) == (1, {"readings": 0})
        await w.write({READINGS: [row("aq-288-01", 0)]})  # tried straight again: meets the stored row
        assert w.direct_conflicts == 2
    finally:
        await w.close()
    rows = stored(test_db)
    assert set(rows) == {("aq-288-01", m) for m in range(STAGED_AFTER_CONFLICT)}
    # minute 0: written 1 + 1 + 1 (the loop) + 1; minute 1: 1 + 1; the others once
    assert {k: v[2] for k, v in rows.items()} == {("aq-288-01", m): {0: 4, 1: 2}.get(m, 1)
                                                  for m in range(STAGED_AFTER_CONFLICT)}
