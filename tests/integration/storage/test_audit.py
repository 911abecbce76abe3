"""`citysense audit`: per device, sequence numbers stored, the gaps between them, rejects by reason."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

from storage.audit import audit

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_gaps_and_rejects_per_device(test_db):
    with psycopg.connect(test_db) as conn, conn.cursor() as cur:
        for seq in [1, 2, 3, 6, 7, 9, 10]:  # 4, 5 and 8 never arrived
            ts = NOW - timedelta(minutes=20 - seq)
            cur.execute("INSERT INTO readings (ts, device_id, district, kind, seq, received_at, pm2_5) "
                        "VALUES (%s, 'aq-288-01', 288, 'air_quality', %s, %s, 10)", (ts, seq, ts))
        # A status split stores two rows for one message: still one sequence number.
        cur.execute("INSERT INTO readings (ts, device_id, district, kind, status, seq, received_at, pm10) "
                    "VALUES (%s, 'aq-288-01', 288, 'air_quality', 'calibrating', 10, %s, 20)",
                    (NOW - timedelta(minutes=10), NOW))
        cur.execute("INSERT INTO readings (ts, device_id, district, kind, received_at, noise_laeq) "
                    "VALUES (%s, 'nz-288-01', 288, 'noise', %s, 60)", (NOW - timedelta(minutes=3), NOW))
        # Two distinct rejects of aq-288-01, one of rogue-1 that the broker redelivered after a gateway
        # restart (MQTT DUP, 40 s later: one reject), and a redelivery whose first reception is not stored.
        for i, (device, reason, payload, minutes_ago, dup) in enumerate((
                ("aq-288-01", "out_of_range", "h1", 5, False), ("aq-288-01", "out_of_range", "h2", 5, False),
                ("rogue-1", "unknown_device", "h3", 5, False), ("rogue-1", "unknown_device", "h3", 4.33, True),
                ("rogue-2", "unknown_device", "h4", 4, True))):
            cur.execute("INSERT INTO deadletters (received_at, reason, message, mqtt_topic, device_id, payload, "
                        "payload_bytes, payload_truncated, payload_sha256, mqtt_dup, kafka_partition, kafka_offset) "
                        "VALUES (%s, %s, 'm', %s, %s, '\\x00', 1, false, %s, %s, 0, %s)",
                        (NOW - timedelta(minutes=minutes_ago), reason, f"citysense/v1/288/{device}/telemetry", device,
                         payload, dup, i))
    with psycopg.connect(test_db) as conn:
        report = {d["device_id"]: d for d in audit(conn, timedelta(hours=1), now=NOW)}
    aq = report["aq-288-01"]
    assert (aq["first_seq"], aq["last_seq"], aq["stored"], aq["missing"]) == (1, 10, 7, 3)
    assert aq["gaps"] == [(4, 5), (8, 8)] and aq["rejected"] == {"out_of_range": 2}
    assert report["nz-288-01"]["stored_without_seq"] == 1 and report["nz-288-01"]["missing"] is None
    assert report["rogue-1"]["rejected"] == {"unknown_device": 1} and report["rogue-1"]["stored"] == 0
    assert report["rogue-2"]["rejected"] == {"unknown_device": 1}
    assert aq["duplicates_removed"] == 0
