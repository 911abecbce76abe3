"""Clock health per device: fast, slow, a backlog is not a slow clock, events only on a change."""

from datetime import datetime, timedelta, timezone

import orjson

from gateway.clocks import ClockWatch

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def feed(watch: ClockWatch, device: str, offsets_s: list[float]) -> None:
    for i, off in enumerate(offsets_s):
        received = NOW + timedelta(seconds=i * 5)
        watch.observe(device, 31001, received + timedelta(seconds=off), received)


def test_fast_slow_and_honest_clocks():
    watch = ClockWatch(tolerance_s=30, gateway_id="gw1")
    feed(watch, "fast", [120] * 12)
    feed(watch, "slow", [-180] * 12)
    feed(watch, "honest", [-0.4] * 12)
    events = {d: orjson.loads(e) for d, _, e in watch.changes(NOW)}
    assert set(events) == {"fast", "slow"}
    assert events["fast"]["state"] == "fast" and events["fast"]["skew_s"] == 120
    assert events["slow"]["state"] == "slow" and events["slow"]["skew_s"] == -180
    assert events["slow"]["at"] == "2026-12-01T08:00:00Z" and events["slow"]["district"] == 31001


def test_a_backlog_with_live_readings_is_not_a_slow_clock():
    watch = ClockWatch(tolerance_s=30, gateway_id="gw1")
    feed(watch, "buffered", [-3600, -3000, -2400, -60, -1])  # an hour of backlog, then live
    assert watch.changes(NOW) == []


def test_an_event_only_when_the_state_changes_and_once_reported():
    watch = ClockWatch(tolerance_s=30, gateway_id="gw1")
    feed(watch, "fast", [120] * 3)
    [(device, state, _)] = watch.changes(NOW)
    feed(watch, "fast", [120] * 3)
    assert [s for _, s, _ in watch.changes(NOW)] == ["fast"]  # not acknowledged yet: sent again
    watch.reported(device, state)
    feed(watch, "fast", [118] * 3)
    assert watch.changes(NOW) == []
    feed(watch, "fast", [0.5] * 3)  # fixed (NTP)
    [(_, state, event)] = watch.changes(NOW)
    assert state == "ok" and orjson.loads(event)["state"] == "ok"
    watch.reported("fast", "ok")
    assert watch.skewed == {}
