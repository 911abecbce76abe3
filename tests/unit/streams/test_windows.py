"""Event-time tumbling windows with a watermark: emitted once when closed; late, replayed and
future readings; readings not `measuring` excluded but counted."""

from streams.windows import WindowConfig, apply, new_state

from .readings import ms, r

CFG = WindowConfig(sizes_s=(60, 3600), lateness_s=30)


def run(state, readings, start_offset=0):
    return apply(state, 288, list(enumerate(readings, start_offset)), CFG)


def test_window_closes_once_when_the_watermark_passes_its_end():
    state = new_state()
    res = run(state, [r(5, {"pm2_5": 10}), r(50, {"pm2_5": 30})])
    assert res.closed == []
    res = run(state, [r(89, {"pm2_5": 99})], 2)  # watermark 59 s: the 0–60 window is still open
    assert res.closed == []
    res = run(state, [r(91, {"pm2_5": 1})], 3)  # watermark 61 s: it closes
    [w] = [c for c in res.closed if c.device is None]
    assert (w.metric, w.size_s, w.start_ms, w.agg["n"], w.agg["sum"]) == ("pm2_5", 60, ms(0), 2, 40)
    assert run(state, [r(92, {"pm2_5": 1})], 4).closed == []  # never emitted again


def test_out_of_order_within_lateness_is_aggregated_and_late_is_reported():
    state = new_state()
    res = run(state, [r(10, {"pm2_5": 10}), r(70, {"pm2_5": 20}), r(55, {"pm2_5": 30})])
    assert res.late == []  # 55 s arrives after 70 s, but the watermark is 40 s
    res = run(state, [r(100, {"pm2_5": 5})], 3)
    first = next(c for c in res.closed if c.size_s == 60 and c.device is None)
    assert first.agg["n"] == 2 and first.agg["sum"] == 40
    res = run(state, [r(20, {"pm2_5": 1000})], 4)  # its window closed: late
    assert len(res.late) == 1 and res.late[0]["watermark_ms"] == ms(70)
    assert state["late"] == 1
    hour = run(state, [r(3700, {"pm2_5": 5})], 5).closed
    hourly = next(c for c in hour if c.size_s == 3600 and c.device is None)
    assert hourly.agg["n"] == 4 and hourly.agg["max"] == 30  # the late 1000 is in no window


def test_replayed_offsets_are_skipped():
    state = new_state()
    run(state, [r(1, {"pm2_5": 10}), r(2, {"pm2_5": 10})])
    res = run(state, [r(1, {"pm2_5": 10}), r(2, {"pm2_5": 10}), r(3, {"pm2_5": 10})])
    assert res.skipped_replayed == 2 and res.applied == 1
    assert state["windows"][f"pm2_5|60|{ms(0)}"]["agg"]["n"] == 3


def test_far_future_reading_does_not_move_the_watermark():
    state = new_state()
    run(state, [r(10, {"pm2_5": 10})])
    future = r(10 + 86400, {"pm2_5": 10}, received_delay_s=-86400)  # ts a day after its reception
    res = run(state, [future], 1)
    assert res.closed == [] and state["max_ts"] == ms(10)


def test_not_measuring_moves_time_but_is_excluded():
    state = new_state()
    res = run(state, [r(1, {"pm2_5": 10}), r(2, {"pm2_5": 500}, status="calibrating"), r(100, {"pm2_5": 1})])
    assert res.excluded_not_measuring == 1
    w = next(c for c in res.closed if c.size_s == 60 and c.device is None)
    assert w.agg["n"] == 1 and w.agg["max"] == 10 and w.excluded == 1


def test_per_device_windows_for_alert_metrics():
    state = new_state()
    res = run(state, [r(1, {"noise_laeq": 70}, device="nz-1", kind="noise"),
                      r(2, {"noise_laeq": 50}, device="nz-2", kind="noise"), r(100, {"pm2_5": 1})])
    devices = {c.device: c.agg["max"] for c in res.closed if c.device}
    assert devices == {"nz-1": 70, "nz-2": 50}


def test_a_reading_delivered_twice_counts_once_and_new_metrics_are_merged():
    import json

    state = new_state()
    res = run(state, [r(5, {"pm2_5": 10, "co": 1}), r(6, {"pm2_5": 20}), r(5, {"pm2_5": 10, "co": 1})])
    assert res.duplicates == 1 and res.applied == 2
    state = json.loads(json.dumps(state))  # as stored in the changelog and loaded again
    res = run(state, [r(5, {"pm2_5": 10, "no2": 7}), r(6, {"pm2_5": 20}, device="aq-288-02")], 3)
    assert res.duplicates == 0  # no2 at 5 s is new (storage merges it into the same row)
    closed = run(state, [r(200, {"pm2_5": 1})], 5).closed
    minute = {c.metric: c.agg for c in closed if c.size_s == 60 and c.start_ms == ms(0) and c.device is None}
    assert minute["pm2_5"]["n"] == 3 and minute["pm2_5"]["sum"] == 50  # 10 + 20 + 20 (the other device)
    assert minute["co"]["n"] == 1 and minute["no2"]["n"] == 1


def test_remembered_event_times_are_dropped_once_their_window_closed():
    state = new_state()
    run(state, [r(s, {"pm2_5": 1}) for s in range(0, 300, 10)])
    seen = state["devices"]["aq-288-01"]["seen"]
    # watermark 260 s: only readings of the still-open 240–300 s minute are remembered
    assert sorted(int(k) for k in seen) == [ms(s) for s in range(240, 300, 10)]


def test_a_device_whose_clock_runs_ahead_makes_no_one_else_late():
    """Real time t: the honest device reads at t (received 1 s later), the fast one claims t + 120 s."""
    state = new_state()
    items = []
    for t in range(0, 300, 5):
        items.append(r(t, {"pm2_5": 10}, device="honest"))
        items.append(r(t + 120, {"pm10": 20}, device="fast", received_delay_s=-119))  # received at t + 1
    res = run(state, items)
    assert res.late == []
    closed = {c.start_ms: c.agg["n"] for c in res.closed if c.metric == "pm2_5" and c.size_s == 60 and not c.device}
    assert closed == {ms(0): 12, ms(60): 12, ms(120): 12, ms(180): 12}  # 240-300 waits for the watermark
    assert state["max_ts"] == ms(296)  # the latest reception, not the fast clock's 416 s
    fast = {c.start_ms for c in res.closed if c.metric == "pm10" and c.size_s == 60}
    assert fast == {ms(120), ms(180)}  # its own windows close when real time reaches them


def test_a_device_whose_clock_runs_behind_is_late_alone():
    state = new_state()
    items = []
    for t in range(200, 500, 5):
        items.append(r(t, {"pm2_5": 10}, device="honest"))
        items.append(r(t - 180, {"pm10": 20}, device="slow", received_delay_s=181))
    res = run(state, items)
    assert {x["reading"]["device_id"] for x in res.late} == {"slow"}
    honest = [c.agg["n"] for c in res.closed if c.metric == "pm2_5" and c.size_s == 60 and not c.device]
    assert honest and all(n == 12 for n in honest[1:])  # the first window (200-240) holds 8
