"""Alert lifecycle: open -> update (re-notified) -> resolved with hysteresis; one id per episode."""

from streams.alerts import Observation, alert_id, end_without_data, observe


def obs(value, at_min, breached=None, cleared=None, consecutive=1, start_min=None):
    breached = value > 150 if breached is None else breached
    cleared = value <= 140 if cleared is None else cleared
    start = (at_min - 60 if start_min is None else start_min) * 60_000
    return Observation("aqi_bad", "aqi", value, 150, breached, cleared, start, at_min * 60_000, consecutive)


def states(msgs):
    return [m["state"] for m in msgs]


def test_open_update_resolve():
    state = {}
    log = []
    for value, minute in [(120, 60), (160, 120), (180, 180), (175, 240), (145, 300), (130, 360), (170, 420)]:
        log += observe(state, 288, obs(value, minute), renotify_s=7200)
    assert states(log) == ["open", "update", "resolved", "open"]
    first_id = log[0]["alert_id"]
    assert all(m["alert_id"] == first_id for m in log[:3]) and log[3]["alert_id"] != first_id
    assert log[1]["peak"] == 180 and log[2]["peak"] == 180  # 145 is not past the hysteresis (≤ 140)
    assert log[2]["resolved_at"] is not None and log[0]["opened_at"] == "1970-01-01T02:00:00Z"


def test_replay_opens_the_same_alert():
    a, b = {}, {}
    assert observe(a, 288, obs(160, 120), 3600)[0]["alert_id"] == observe(b, 288, obs(160, 120), 3600)[0]["alert_id"]
    assert alert_id(288, "aqi_bad", "aqi", 3_600_000) == observe({}, 288, obs(160, 120), 3600)[0]["alert_id"]


def test_consecutive_windows_needed():
    state = {}
    msgs = []
    for minute in (1, 2):  # windows [0, 1) and [1, 2) minutes
        msgs += observe(state, 290, obs(0, minute, breached=True, cleared=False, consecutive=3, start_min=minute - 1),
                        3600)
    assert msgs == []
    msgs += observe(state, 290, obs(0, 3, breached=False, cleared=True, consecutive=3, start_min=2), 3600)
    for minute in (4, 5, 6):
        msgs += observe(state, 290, obs(0, minute, breached=True, cleared=False, consecutive=3, start_min=minute - 1),
                        3600)
    assert states(msgs) == ["open"]
    assert msgs[0]["first_window_start"] == "1970-01-01T00:03:00Z"  # the streak after the interruption


def test_consecutive_means_adjacent_windows():
    """Three breached windows with a gap between them (no data for a window) are not three in a row."""
    state = {}
    msgs = []
    for minute in (1, 2, 4, 5):  # the window [2, 3) is missing: a device that went quiet for a minute
        msgs += observe(state, 290, obs(0, minute, breached=True, cleared=False, consecutive=3, start_min=minute - 1),
                        3600)
    assert msgs == []
    msgs += observe(state, 290, obs(0, 6, breached=True, cleared=False, consecutive=3, start_min=5), 3600)
    assert states(msgs) == ["open"] and msgs[0]["first_window_start"] == "1970-01-01T00:03:00Z"


def test_an_alert_whose_subject_stops_reporting_ends_as_no_data():
    state = {}
    [opened] = observe(state, 288, obs(180, 120), 3600)
    assert end_without_data(state, 288, 120 * 60_000 + 3 * 3_600_000 - 1, 3 * 3600) == []
    [ended] = end_without_data(state, 288, 120 * 60_000 + 3 * 3_600_000, 3 * 3600)
    assert ended["state"] == "no_data" and ended["alert_id"] == opened["alert_id"] and ended["value"] is None
    assert ended["last_data_at"] == "1970-01-01T02:00:00Z" and ended["resolved_at"] == "1970-01-01T05:00:00Z"
    assert state["alerts"] == {}


def test_an_alert_about_a_device_that_left_the_registry_ends():
    state = {}
    noise = Observation("noise_over_limit", "nz-1", 80, 70, True, False, 0, 60_000, 1, "dB(A)")
    observe(state, 288, noise, 3600)
    [ended] = end_without_data(state, 288, 120_000, 3 * 3600, gone={"nz-1"})
    assert (ended["state"], ended["subject"]) == ("no_data", "nz-1")
