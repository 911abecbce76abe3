"""Retention of the Apache edition (no policy scheduler there): drop chunks older than the settings.
With the community edition, the retention policies of migration 0006 do this and this job does nothing."""

from __future__ import annotations

import logging

import psycopg

from storage.settings import StorageSettings

logger = logging.getLogger(__name__)


def run_retention(settings: StorageSettings) -> dict[str, int]:
    plan = {"readings": settings.retention_days_readings, "late_readings": settings.retention_days_rejects,
            "deadletters": settings.retention_days_rejects, "security_events": settings.retention_days_rejects,
            "device_health": settings.retention_days_rejects}
    dropped = {}
    with psycopg.connect(settings.dsn, autocommit=True, connect_timeout=5) as conn:
        quarantined = conn.execute("DELETE FROM quarantine WHERE quarantined_at < now() - %s * interval '1 day'",
                                   (settings.retention_days_rejects,)).rowcount
        if quarantined:
            dropped["quarantine"] = quarantined
            logger.info("retention: deleted %d quarantined records older than %d days", quarantined,
                        settings.retention_days_rejects)
        if conn.execute("SHOW timescaledb.license").fetchone()[0] == "timescale":
            return dropped
        for table, days in plan.items():
            chunks = conn.execute("SELECT drop_chunks(%s::regclass, older_than => now() - make_interval(days => %s))",
                                  (table, days)).fetchall()
            dropped[table] = len(chunks)
            if chunks:
                logger.info("retention: dropped %d chunks of %s older than %d days", len(chunks), table, days)
    return dropped
