"""Alert lifecycle (pure logic): a rule fires -> one alert opens; while it stays true it stays that
one alert (peak updated, re-notified every `renotify_s` of event time); it resolves with hysteresis.
An alert whose subject stops reporting (no observation for `no_data_after_s` of event time) ends
in a state of its own, `no_data` — not resolved: nobody knows whether the condition is over —, and
so does an alert about a device that left the registry. "N consecutive windows" means N adjacent
windows: a gap between two breached windows starts the count again.

State per district (in its entry of the state topic, streams/state_store.py): open alerts under "alerts" and consecutive-breach
counters under "streaks", both keyed "rule|subject". The alert id is derived from district, rule,
subject and the start of the window that opened it, so a replay opens the same alert, not a second.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson

from telemetry import OUTPUT_SCHEMA_VERSION


def alert_id(district: int, rule: str, subject: str, window_start_ms: int) -> str:
    return hashlib.sha1(f"{district}|{rule}|{subject}|{window_start_ms}".encode()).hexdigest()[:20]


def _iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Observation:
    """One evaluation of a rule for one subject at one window."""

    rule: str
    subject: str
    value: float            # larger is worse (AQI, concentration, dB, cm, occupancy, minutes silent)
    threshold: float
    breached: bool          # the rule's condition holds in this window
    cleared: bool           # the condition is over, past the hysteresis
    window_start_ms: int
    at_ms: int              # event time of the evaluation (window end)
    consecutive: int = 1
    unit: str = ""
    severity: str = "warning"


def observe(state: dict, district: int, obs: Observation, renotify_s: int) -> list[dict]:
    """Advance the lifecycle of one rule/subject; returns the alert messages to publish."""
    alerts = state.setdefault("alerts", {})
    streaks = state.setdefault("streaks", {})
    key = f"{obs.rule}|{obs.subject}"
    alert = alerts.get(key)
    if alert is None:
        if not obs.breached:
            streaks.pop(key, None)
            return []
        streak = streaks.get(key)
        if streak is None or streak.get("end_ms", obs.window_start_ms) != obs.window_start_ms:
            streak = {"n": 0, "first_ms": obs.window_start_ms}  # none yet, or not adjacent to the last one
        streak["n"] += 1
        streak["end_ms"] = obs.at_ms
        if streak["n"] < obs.consecutive:
            streaks[key] = streak
            return []
        streaks.pop(key, None)
        alert = alerts[key] = {
            "id": alert_id(district, obs.rule, obs.subject, streak["first_ms"]),
            "opened_ms": obs.at_ms, "first_window_ms": streak["first_ms"], "peak": obs.value,
            "notified_ms": obs.at_ms, "threshold": obs.threshold, "unit": obs.unit, "severity": obs.severity,
            "last_ms": obs.at_ms,
        }
        return [_message(district, obs, alert, "open")]
    alert["last_ms"] = obs.at_ms
    alert["peak"] = max(alert["peak"], obs.value)
    if obs.severity == "critical":
        alert["severity"] = "critical"
    if obs.cleared:
        del alerts[key]
        return [_message(district, obs, alert, "resolved")]
    if obs.at_ms - alert["notified_ms"] >= renotify_s * 1000:
        alert["notified_ms"] = obs.at_ms
        return [_message(district, obs, alert, "update")]
    return []


def end_without_data(state: dict, district: int, now_ms: int, no_data_after_s: int,
                     gone: set[str] = frozenset()) -> list[dict]:
    """End, as `no_data`, the open alerts not observed for `no_data_after_s` of event time (device
    silence is the subject of its own rule and never ends this way), and those whose subject is a
    device in `gone` (removed from the registry or revoked)."""
    out = []
    for key, alert in list(state.get("alerts", {}).items()):
        rule, subject = key.split("|", 1)
        last_ms = alert.get("last_ms", alert["opened_ms"])
        stale = rule != "device_silent" and now_ms - last_ms >= no_data_after_s * 1000
        if stale or subject in gone:
            del state["alerts"][key]
            obs = Observation(rule, subject, alert["peak"], alert["threshold"], False, False,
                              alert["first_window_ms"], now_ms, unit=alert["unit"])
            message = _message(district, obs, alert, "no_data")
            message["value"] = None
            message["last_data_at"] = _iso(last_ms)
            out.append(message)
    for key in [k for k in state.get("streaks", {}) if k.split("|", 1)[1] in gone]:
        del state["streaks"][key]
    return out


def _message(district: int, obs: Observation, alert: dict, state: str) -> dict:
    return {
        "v": OUTPUT_SCHEMA_VERSION,
        "alert_id": alert["id"],
        "district": district,
        "rule": obs.rule,
        "subject": obs.subject,
        "state": state,
        "severity": alert["severity"],
        "value": obs.value,
        "peak": alert["peak"],
        "threshold": alert["threshold"],
        "unit": alert["unit"],
        "opened_at": _iso(alert["opened_ms"]),
        "first_window_start": _iso(alert["first_window_ms"]),
        "updated_at": _iso(obs.at_ms),
        "resolved_at": _iso(obs.at_ms) if state in ("resolved", "no_data") else None,
    }


def encode(message: dict) -> bytes:
    return orjson.dumps(message)
