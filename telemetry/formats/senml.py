"""SenML JSON packs (RFC 8428): base fields bn, bt, bu and records with n, u, v, t.

The metric is the last segment of the resolved name (bn + n) after ':' or '/', e.g.
`urn:dev:ow:10e2073a01080063:pm2_5` -> pm2_5. Times are seconds; a resolved time below 2**28 is
relative to the time of reception (RFC 8428 §4.5.3). Records at different times become separate
observations. String, boolean and data values (vs, vb, vd) are not metric values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from telemetry.formats.observation import Observation, RawValue, epoch_ms, is_number
from telemetry.rejections import Reason, Rejected

RELATIVE_LIMIT_S = 2**28
MAX_RECORDS = 500


def looks_senml(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(r, dict) for r in value)
        and any(k in value[0] for k in ("bn", "bt", "bu", "n", "v", "bver"))
    )


def _name(base: str, rec: dict) -> str:
    name = rec.get("n", "")
    if not isinstance(name, str) or not isinstance(base, str):
        raise Rejected(Reason.WRONG_TYPE, "SenML names (bn, n) must be text")
    full = base + name
    for sep in (":", "/"):
        full = full.rsplit(sep, 1)[-1]
    if not full:
        raise Rejected(Reason.MISSING_FIELD, "SenML record without a name (n)")
    return full


def parse(pack: list, received_at: datetime) -> list[Observation]:
    if len(pack) > MAX_RECORDS:
        raise Rejected(Reason.PAYLOAD_TOO_LARGE, f"SenML pack of {len(pack)} records (at most {MAX_RECORDS})")
    base_name, base_time, base_unit = "", 0.0, None
    by_time: dict[datetime, Observation] = {}
    for rec in pack:
        if "bn" in rec:
            base_name = rec["bn"]
        if "bt" in rec:
            if not is_number(rec["bt"]):
                raise Rejected(Reason.WRONG_TYPE, "SenML bt must be a number of seconds")
            base_time = float(rec["bt"])
        if "bu" in rec:
            base_unit = rec["bu"]
        if not any(k in rec for k in ("v", "vs", "vb", "vd", "s")):
            continue  # a record carrying only base fields
        name = _name(base_name, rec)
        if "v" not in rec:
            raise Rejected(Reason.WRONG_TYPE, f"SenML record {name!r} has no numeric value v")
        t = rec.get("t", 0)
        if not is_number(t):
            raise Rejected(Reason.WRONG_TYPE, "SenML t must be a number of seconds")
        when = base_time + float(t)
        if abs(when) < RELATIVE_LIMIT_S:
            ts = received_at + timedelta(seconds=when)
        else:
            ts = epoch_ms(when * 1000.0, "SenML time")
        unit = rec.get("u", base_unit)
        if unit is not None and not isinstance(unit, str):
            raise Rejected(Reason.WRONG_TYPE, "SenML units must be text")
        obs = by_time.setdefault(ts, Observation(ts=ts))
        obs.add(name, RawValue(rec["v"], unit))
    if not by_time:
        raise Rejected(Reason.MISSING_FIELD, "SenML pack without any record value")
    return list(by_time.values())
