"""Recompute-and-compare: rebuild the aggregates of a time range from raw readings and compare
them with what the stream emitted (used by the tests and by the reliability suite).

`recompute()` replays readings in arrival order through the same windowing code as the worker, so
late readings are left out exactly as the worker left them out; `recompute(..., ignore_lateness=True)`
aggregates every reading into its window (what storage holds raw, when nothing was late).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from streams import aggregation
from streams.windows import WindowConfig, apply, close_due, new_state

WindowKey = tuple[int, str, int, str]  # district, metric, window_s, window_start (ISO, UTC "Z")


def _iso(ms: int) -> str:
    from streams.messages import iso

    return iso(ms)


def recompute(readings: Iterable[dict], cfg: WindowConfig, *, ignore_lateness: bool = False) -> dict[WindowKey, dict]:
    """Readings as dicts with ts_ms and received_ms (see streams.processor.decode), in arrival order."""
    if ignore_lateness:
        cfg = replace(cfg, lateness_s=10**12 / 1000)
    states: dict[int, dict] = {}
    out: dict[WindowKey, dict] = {}
    for offset, r in enumerate(readings):
        state = states.setdefault(r["district"], new_state())
        res = apply(state, r["district"], [(offset, r)], cfg)
        for w in res.closed:
            if w.device is None:
                out[(w.district, w.metric, w.size_s, _iso(w.start_ms))] = {**aggregation.summary(w.agg, w.metric),
                                                                           "excluded": w.excluded}
    for district, state in states.items():
        state["max_ts"] = 2**62  # close everything still open
        for w in close_due(state, district, replace(cfg, lateness_s=0)):
            if w.device is None:
                out[(w.district, w.metric, w.size_s, _iso(w.start_ms))] = {**aggregation.summary(w.agg, w.metric),
                                                                           "excluded": w.excluded}
    return out


def compare(expected: dict[WindowKey, dict], emitted: Iterable[dict], *, rel_tol: float = 1e-9,
            only_emitted: bool = True) -> list[str]:
    """Differences between recomputed windows and emitted aggregate messages (empty when equal).

    With `only_emitted`, windows the stream has not closed yet (still open at its watermark) are
    not reported missing; a window emitted twice with different values is reported."""
    seen: dict[WindowKey, dict] = {}
    problems = []
    for msg in emitted:
        key = (msg["district"], msg["metric"], msg["window_s"], msg["window_start"])
        if key in seen and seen[key] != msg:
            problems.append(f"{key}: emitted twice with different values")
        seen[key] = msg
    for key, msg in seen.items():
        exp = expected.get(key)
        if exp is None:
            problems.append(f"{key}: emitted but not in the recomputation")
            continue
        for field in ("count", "min", "max", "sum", "mean", "excluded"):
            a, b = exp.get(field), msg.get(field)
            if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)):
                problems.append(f"{key}: {field} recomputed {a} != emitted {b}")
    if not only_emitted:
        problems += [f"{key}: recomputed but never emitted" for key in expected if key not in seen]
    return problems
