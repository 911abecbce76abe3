"""Reading rows for the sink: one row per device, time and status in a batch; deliveries counted."""

from storage.rows import READINGS, dedupe_readings, reading_row

MSG = {"ts": "2026-11-25T00:00:00+00:00", "received_at": "2026-11-25T00:00:01+00:00", "device_id": "aq-288-01",
       "district": 288, "kind": "air_quality", "seq": 7, "metrics": {"pm2_5": 12.0}}


def test_a_reading_row_counts_one_delivery_in_the_last_column():
    row = reading_row(MSG)
    assert len(row) == len(READINGS.columns) and READINGS.columns[-1] == "deliveries" and row[-1] == 1


def test_duplicates_in_a_batch_are_merged_and_their_deliveries_added():
    more = {**MSG, "metrics": {"pm2_5": 99.0, "no2": 5.0}}
    other = {**MSG, "device_id": "aq-288-02"}
    rows = dedupe_readings([reading_row(MSG), reading_row(MSG), reading_row(more), reading_row(other)])
    assert len(rows) == 2
    first = dict(zip(READINGS.columns, rows[0]))
    assert (first["pm2_5"], first["no2"], first["deliveries"]) == (12.0, 5.0, 3)  # first value of a metric wins
    assert dict(zip(READINGS.columns, rows[1]))["deliveries"] == 1
