"""NGSI-LD's query language (`q`, GS CIM 009 §4.9) parsed into a small tree and evaluated over
entities — never SQL: no text a client writes reaches the database.

`;` is AND and binds tighter than `|` (OR); parentheses nest up to MAX_DEPTH; terms compare a
Property's value (or a sub-attribute: `pm25.observedAt`) with a number, a "string", a date-time,
true/false, a range `a..b` or a list `a,b,c`; `~=` and `!~=` match a regular expression, refused when
it could backtrack without end (a repeated group that repeats or alternates inside)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from api.ngsi.exceptions import NgsiError

MAX_DEPTH = 16
MAX_TERMS = 64
MAX_PATTERN = 200
OPERATORS = ("!~=", "~=", "==", "!=", ">=", "<=", ">", "<")
ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#@!$&*+=%-]+")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


def bad(detail: str) -> NgsiError:
    return NgsiError(400, "BadRequestData", detail)


@dataclass(frozen=True)
class Term:
    attr: str
    op: str | None = None  # None: the attribute exists
    value: object = None  # a literal, a (low, high) range, a list, or a compiled pattern


@dataclass(frozen=True)
class Logic:
    op: str  # ";" or "|"
    parts: tuple


def safe_pattern(text: str) -> re.Pattern:
    """A regular expression that cannot backtrack exponentially, or a 400."""
    if len(text) > MAX_PATTERN:
        raise bad(f"a pattern of {len(text)} characters; at most {MAX_PATTERN}")
    stack: list[bool] = []  # per open group: does it repeat or alternate inside?
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "(":
            stack.append(False)
        elif ch in "|*+?{" and stack:
            stack[-1] = True
        elif ch == ")" and stack:
            risky = stack.pop()
            if risky and i + 1 < len(text) and text[i + 1] in "*+{":
                raise bad(f"the pattern {text!r} repeats a group that repeats or alternates: it could run "
                          "without end; write it without the nested repetition")
            if risky and stack:
                stack[-1] = True
    try:
        return re.compile(text)
    except re.error as exc:
        raise bad(f"{text!r} is not a valid regular expression: {exc}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.i, self.terms = text, 0, 0

    def parse(self) -> Term | Logic:
        node = self.either(0)
        if self.i != len(self.text):
            raise bad(f"q: unexpected {self.text[self.i:self.i + 20]!r} at character {self.i}")
        return node

    def either(self, depth: int) -> Term | Logic:
        parts = [self.both(depth)]
        while self.peek("|"):
            self.i += 1
            parts.append(self.both(depth))
        return parts[0] if len(parts) == 1 else Logic("|", tuple(parts))

    def both(self, depth: int) -> Term | Logic:
        parts = [self.atom(depth)]
        while self.peek(";"):
            self.i += 1
            parts.append(self.atom(depth))
        return parts[0] if len(parts) == 1 else Logic(";", tuple(parts))

    def atom(self, depth: int) -> Term | Logic:
        if self.peek("("):
            if depth >= MAX_DEPTH:
                raise bad(f"q nests parentheses deeper than {MAX_DEPTH}")
            self.i += 1
            node = self.either(depth + 1)
            if not self.peek(")"):
                raise bad(f"q: a ')' is missing at character {self.i}")
            self.i += 1
            return node
        return self.term()

    def peek(self, s: str) -> bool:
        return self.text.startswith(s, self.i)

    def term(self) -> Term:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise bad(f"q has more than {MAX_TERMS} terms")
        m = ATTR.match(self.text, self.i)
        if not m:
            raise bad(f"q: an attribute name was expected at character {self.i}")
        self.i = m.end()
        op = next((o for o in OPERATORS if self.peek(o)), None)
        if op is None:
            return Term(m.group())
        self.i += len(op)
        raw = self.raw_value()
        if op in ("~=", "!~="):
            return Term(m.group(), op, safe_pattern(raw[1:-1] if raw.startswith('"') and raw.endswith('"') else raw))
        return Term(m.group(), op, value_of(raw))

    def raw_value(self) -> str:
        start, quoted = self.i, False
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == '"' and (self.i == start or self.text[self.i - 1] != "\\"):
                quoted = not quoted
            elif not quoted and ch in ";|)":
                break
            self.i += 1
        if quoted:
            raise bad("q: a string is not closed")
        if self.i == start:
            raise bad(f"q: a value was expected at character {start}")
        return self.text[start:self.i]


def _split(raw: str, sep: str) -> list[str]:
    out, cur, quoted = [], "", False
    i = 0
    while i < len(raw):
        if raw[i] == '"':
            quoted = not quoted
        if not quoted and raw.startswith(sep, i):
            out.append(cur)
            cur, i = "", i + len(sep)
            continue
        cur += raw[i]
        i += 1
    return out + [cur]


def literal(raw: str):
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"')
    if raw in ("true", "false"):
        return raw == "true"
    if NUMBER.fullmatch(raw):
        value = float(raw)
        if not math.isfinite(value):
            raise bad(f"q: {raw[:30]!r} is not a finite number")
        return value
    if DATETIME.fullmatch(raw):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise bad(f"q: {raw!r} is not a date-time")
    if URI.fullmatch(raw):
        return raw  # a relationship's object may be written unquoted
    raise bad(f"q: {raw[:60]!r} is not a value: a number, a \"quoted string\", a date-time, true, false or a URI")


def value_of(raw: str):
    ranged = _split(raw, "..")
    if len(ranged) == 2:
        return ("range", literal(ranged[0]), literal(ranged[1]))
    listed = _split(raw, ",")
    if len(listed) > 1:
        return ("list", *map(literal, listed))
    return literal(raw)


def parse(text: str) -> Term | Logic:
    return _Parser(text).parse()


def _get(entity: dict, path: str):
    name, _, sub = path.partition(".")
    attr = entity.get(name)
    if not isinstance(attr, dict):
        return None
    value = attr.get(sub) if sub else attr.get("value", attr.get("object"))
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if isinstance(value, str) and DATETIME.fullmatch(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _cmp(a, op: str, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            return op == "!="
    elif isinstance(a, (int, float)) != isinstance(b, (int, float)) or isinstance(a, datetime) != isinstance(b, datetime):
        return op == "!="
    try:
        return {"==": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]
    except TypeError:
        return False


def matches(node: Term | Logic, entity: dict) -> bool:
    if isinstance(node, Logic):
        test = all if node.op == ";" else any
        return test(matches(part, entity) for part in node.parts)
    value = _get(entity, node.attr)
    if value is None:
        return False  # a term on an attribute the entity lacks matches nothing
    if node.op is None:
        return True
    if node.op in ("~=", "!~="):
        found = isinstance(value, str) and node.value.search(value) is not None
        return found if node.op == "~=" else not found
    target = node.value
    if isinstance(target, tuple) and target[0] == "range":
        inside = _cmp(value, ">=", target[1]) and _cmp(value, "<=", target[2])
        return inside if node.op == "==" else (not inside if node.op == "!=" else False)
    if isinstance(target, tuple) and target[0] == "list":
        found = any(_cmp(value, "==", t) for t in target[1:])
        return found if node.op == "==" else (not found if node.op == "!=" else False)
    return _cmp(value, node.op, target)
