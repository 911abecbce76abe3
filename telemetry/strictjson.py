"""Strict JSON parsing of untrusted payloads: a rejection with a reason, never an exception.

Refuses what Python's json module accepts silently: NaN and Infinity, duplicate keys (last wins),
numbers with thousands of digits (or a ValueError at 4,300), deep nesting (RecursionError), and
invalid UTF-8.
"""

from __future__ import annotations

import json
import math
from typing import Any

from telemetry.rejections import Reason, Rejected

MAX_NUMBER_CHARS = 40  # the longest number literal accepted (a float64 needs at most ~25)


def _reject_constant(name: str) -> Any:
    raise Rejected(Reason.NOT_FINITE, f"{name} is not a number JSON allows (NaN and Infinity are refused)")


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise Rejected(Reason.OUT_OF_RANGE, f"number literal of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise Rejected(Reason.NOT_FINITE, f"number {text[:20]} overflows a 64-bit float")
    return value


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise Rejected(Reason.OUT_OF_RANGE, f"number literal of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise Rejected(Reason.DUPLICATE_METRIC, f"key {dup!r} appears more than once")
    return out


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_float=_parse_float,
    parse_int=_parse_int,
    parse_constant=_reject_constant,
    strict=True,
)


def depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed value, counting stops once past `limit`."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def loads(payload: bytes, *, max_bytes: int, max_depth: int) -> Any:
    """Parse `payload`; raise Rejected with a reason code for anything unsafe or invalid."""
    if len(payload) > max_bytes:
        raise Rejected(Reason.PAYLOAD_TOO_LARGE, f"payload of {len(payload)} bytes (at most {max_bytes})")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.NOT_UTF8, f"payload is not valid UTF-8 at byte {exc.start}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = _DECODER.decode(text)
    except Rejected:
        raise
    except RecursionError:
        raise Rejected(Reason.TOO_DEEP, f"JSON nested deeper than {max_depth} levels") from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise Rejected(Reason.MALFORMED_JSON, f"not valid JSON: {str(exc)[:160]}") from None
    # Only a payload with more brackets than the limit can be nested deeper than it.
    if payload.count(b"{") + payload.count(b"[") > max_depth and depth(value, max_depth) > max_depth:
        raise Rejected(Reason.TOO_DEEP, f"JSON nested deeper than {max_depth} levels")
    return value

