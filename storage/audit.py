"""Per-message accounting: for each device, the sequence numbers it sent (as far as they reached
storage) against the readings stored, the gaps (messages lost before the gateway, or never sent),
what the gateway rejected, by reason (a broker redelivery of a reject counted once), the duplicate
deliveries storage removed (readings.deliveries), the records the database refused (quarantine),
the device's clock as the gateway last judged it (device_health: ok, fast or slow, with the skew), and
the readings it published under its former district's topic (`legacy_topic`: reconfigure it).
The answer to "what was lost, where, and what was doubled"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg


def audit(conn: psycopg.Connection, since: timedelta, now: datetime | None = None, max_gaps: int = 20) -> list[dict]:
    now = now or datetime.now(timezone.utc)
    start = now - since
    devices = conn.execute("""
        WITH s AS (SELECT DISTINCT device_id, seq FROM readings
                   WHERE ts > %(start)s AND ts <= %(now)s AND seq IS NOT NULL),
             runs AS (SELECT device_id, seq, seq - lag(seq) OVER (PARTITION BY device_id ORDER BY seq) AS step FROM s)
        SELECT device_id, min(seq) AS first_seq, max(seq) AS last_seq, count(*) AS stored,
               (max(seq) - min(seq) + 1) - count(*) AS missing,
               coalesce(array_agg(ARRAY[seq - step + 1, seq - 1] ORDER BY seq) FILTER (WHERE step > 1), '{}') AS gaps
        FROM runs GROUP BY device_id ORDER BY device_id""", {"start": start, "now": now}).fetchall()
    duplicates = dict(conn.execute("""
        SELECT device_id, sum(deliveries - 1) FROM readings
        WHERE ts > %(start)s AND ts <= %(now)s AND deliveries > 1 GROUP BY 1""", {"start": start, "now": now}).fetchall())
    unsequenced = dict(conn.execute("""
        SELECT device_id, count(DISTINCT ts) FROM readings
        WHERE ts > %(start)s AND ts <= %(now)s AND seq IS NULL GROUP BY 1""", {"start": start, "now": now}).fetchall())
    rejects: dict[str, dict[str, int]] = {}
    # A broker redelivery (MQTT DUP) of a payload whose first reception is stored is the same reject.
    for device, reason, n in conn.execute("""
            SELECT coalesce(device_id, '(no device in topic)'), reason, count(*) FROM deadletters d
            WHERE received_at > %(start)s AND received_at <= %(now)s
              AND NOT (mqtt_dup AND EXISTS (SELECT 1 FROM deadletters e
                                            WHERE e.mqtt_topic = d.mqtt_topic AND e.payload_sha256 = d.payload_sha256
                                              AND e.received_at < d.received_at
                                              AND e.received_at > d.received_at - interval '7 days'))
            GROUP BY 1, 2""", {"start": start, "now": now}):
        rejects.setdefault(device, {})[reason] = n
    quarantined = dict(conn.execute("""
        SELECT coalesce(device_id, '(unknown device)'), count(*) FROM quarantine
        WHERE quarantined_at > %(start)s AND quarantined_at <= %(now)s GROUP BY 1""",
                                    {"start": start, "now": now}).fetchall())
    clocks = {row[0]: {"state": row[1], "skew_s": row[2], "since": row[3]} for row in conn.execute("""
        SELECT DISTINCT ON (device_id) device_id, state, skew_s, at FROM device_health
        WHERE kind = 'clock_skew' AND at <= %(now)s ORDER BY device_id, at DESC""", {"now": now}).fetchall()}
    legacy = {row[0]: {"readings": row[1], "topic_code": row[2]} for row in conn.execute("""
        SELECT device_id, count(*), max(topic_area) FROM readings
        WHERE ts > %(start)s AND ts <= %(now)s AND topic_area IS NOT NULL GROUP BY 1""",
                                                                                   {"start": start, "now": now})}

    def entry(device_id: str, first=None, last=None, stored=0, missing=None, gaps=()) -> dict:
        return {"device_id": device_id, "first_seq": first, "last_seq": last, "stored": stored, "missing": missing,
                "gaps": [tuple(g) for g in gaps[:max_gaps]], "stored_without_seq": unsequenced.get(device_id, 0),
                "rejected": rejects.get(device_id, {}), "duplicates_removed": int(duplicates.get(device_id, 0)),
                "quarantined": quarantined.get(device_id, 0), "clock": clocks.get(device_id),
                "legacy_topic": legacy.get(device_id)}

    out = [entry(*row) for row in devices]
    seen = {row[0] for row in devices}
    skewed = {d for d, c in clocks.items() if c["state"] != "ok"}
    for device_id in sorted((set(unsequenced) | set(rejects) | set(quarantined) | skewed | set(legacy)) - seen):
        out.append(entry(device_id))
    return out
