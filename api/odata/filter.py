"""`$filter` and `$orderby` into SQL: odata-query's parser makes the tree, this walks it into a
psycopg `Composable` whose every literal is a parameter — a client's text never becomes SQL text.
Properties come from api/odata/schema.py (unknown: 400); eq, ne, gt, ge, lt, le, in, and, or, not,
`null`, and contains/startswith/endswith on strings; arithmetic, other functions and lambdas: 501."""

from __future__ import annotations

import dataclasses
import math

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser
from psycopg import sql as psql

from api.odata.exceptions import ODataError
from api.odata.schema import EntitySet

MAX_LENGTH = 4000
MAX_DEPTH = 40
MAX_NODES = 400
COMPARE = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
NUMERIC = {"Edm.Int32", "Edm.Int64", "Edm.Double"}
LITERAL_TYPES = {ast.Integer: NUMERIC, ast.Float: NUMERIC, ast.String: {"Edm.String"},
                 ast.Boolean: {"Edm.Boolean"}, ast.DateTime: {"Edm.DateTimeOffset"}}
FUNCTIONS = {"contains": "strpos({0}, {1}) > 0", "startswith": "starts_with({0}, {1})",
             "endswith": "starts_with(reverse({0}), reverse({1}))"}  # each parameter once


def _check_shape(tree) -> None:
    """Bounded depth and size, walked without recursion (a deep tree must not exhaust the stack)."""
    stack, nodes = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            raise ODataError(400, f"$filter nests deeper than {MAX_DEPTH} or has more than {MAX_NODES} parts")
        children = [getattr(node, f) for f in ("left", "right", "operand") if hasattr(node, f)]
        children += list(getattr(node, "args", []) or [])
        value = getattr(node, "val", None)
        if isinstance(value, list):
            children += value
        stack += [(c, depth + 1) for c in children if dataclasses.is_dataclass(c) and not isinstance(c, type)]


def parse(text: str):
    if len(text) > MAX_LENGTH:
        raise ODataError(400, f"$filter of {len(text)} characters; at most {MAX_LENGTH}")
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except (ODataException, ValueError, TypeError) as exc:
        raise ODataError(400, f"$filter does not parse: {str(exc)[:200]}")
    if tree is None:
        raise ODataError(400, "$filter is empty")
    _check_shape(tree)
    return tree


class _Compiler:
    def __init__(self, entity_set: EntitySet) -> None:
        self.set, self.params = entity_set, []

    def prop(self, node):
        if not isinstance(node, ast.Identifier) or node.namespace:
            raise ODataError(501, f"$filter: only properties of {self.set.name} are compared (not {type(node).__name__})")
        p = self.set.prop(node.name)
        if p is None:
            raise ODataError(400, f"$filter: {self.set.name} has no property {node.name!r} (see $metadata)")
        return p

    def literal(self, node, edm: str) -> psql.Composable:
        kinds = next((k for t, k in LITERAL_TYPES.items() if isinstance(node, t)), None)
        if kinds is None:
            raise ODataError(501, f"$filter: a {type(node).__name__} literal is not answered here")
        if edm not in kinds:
            raise ODataError(400, f"$filter: a {type(node).__name__} cannot be compared with an {edm}")
        try:
            value = node.py_val
        except (ValueError, OverflowError, ODataException) as exc:
            raise ODataError(400, f"$filter: {str(exc)[:100]}")
        if isinstance(value, int) and not -2**63 <= value < 2**63:
            raise ODataError(400, "$filter: an integer beyond 64 bits")
        if isinstance(value, str) and "\x00" in value:
            raise ODataError(400, "$filter: a string with a NUL character")
        if isinstance(value, float) and not math.isfinite(value):
            raise ODataError(400, "$filter: a number beyond the range of a double")
        self.params.append(value)
        return psql.Placeholder()

    def compile(self, node) -> psql.Composable:
        if isinstance(node, ast.BoolOp):
            op = "AND" if isinstance(node.op, ast.And) else "OR"
            return psql.SQL("({} " + op + " {})").format(self.compile(node.left), self.compile(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return psql.SQL("(NOT coalesce({}, false))").format(self.compile(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Identifier) and self.set.prop(node.name) and self.set.prop(node.name).edm == "Edm.Boolean":
            return psql.SQL(self.set.prop(node.name).sql)
        if isinstance(node, (ast.Identifier, ast.String, ast.Integer, ast.Float, ast.Null)):
            raise ODataError(400, "$filter: a condition is needed (e.g. area eq 10507), not a bare value")
        raise ODataError(501, f"$filter: {type(node).__name__} is not answered here (comparisons, and/or/not, "
                              "in, contains/startswith/endswith)")

    def compare(self, node: ast.Compare) -> psql.Composable:
        left, right, comparator = node.left, node.right, node.comparator
        if not isinstance(left, ast.Identifier) and isinstance(right, ast.Identifier):
            left, right = right, left
            comparator = {ast.Lt: ast.Gt(), ast.Gt: ast.Lt(), ast.LtE: ast.GtE(), ast.GtE: ast.LtE()}.get(
                type(comparator), comparator)
        p = self.prop(left)
        column = psql.SQL(p.sql)
        if isinstance(comparator, ast.In):
            if not isinstance(right, ast.List) or not right.val:
                raise ODataError(400, "$filter: in takes a list of values: area in (10507, 10525)")
            return psql.SQL("{} IN ({})").format(column, psql.SQL(", ").join(self.literal(v, p.edm) for v in right.val))
        if isinstance(right, ast.Null):
            if isinstance(comparator, (ast.Eq, ast.NotEq)):
                return psql.SQL("{} IS {}NULL").format(column, psql.SQL("NOT " if isinstance(comparator, ast.NotEq)
                                                                        else ""))
            raise ODataError(400, "$filter: null compares only with eq and ne")
        if isinstance(right, ast.Identifier):
            raise ODataError(501, "$filter: a property compared with another property is not answered here")
        value = self.literal(right, p.edm)
        if isinstance(comparator, ast.NotEq):  # OData: null ne 3 is true
            return psql.SQL("({0} <> {1} OR {0} IS NULL)").format(column, value)
        return psql.SQL("{} " + COMPARE[type(comparator)] + " {}").format(column, value)

    def call(self, node: ast.Call) -> psql.Composable:
        name = node.func.name
        if name not in FUNCTIONS or node.func.namespace:
            raise ODataError(501, f"$filter: the function {name!r} is not answered here ({', '.join(FUNCTIONS)})")
        if len(node.args) != 2:
            raise ODataError(400, f"$filter: {name} takes a property and a string")
        p = self.prop(node.args[0])
        if p.edm != "Edm.String":
            raise ODataError(400, f"$filter: {name} works on strings; {p.name} is an {p.edm}")
        value = self.literal(node.args[1], p.edm)
        return psql.SQL(FUNCTIONS[name]).format(psql.SQL(p.sql), value)


def where(entity_set: EntitySet, text: str | None) -> tuple[psql.Composable, list]:
    """The SQL condition of `$filter` (TRUE without one) and its parameters, in order."""
    if text is None:
        return psql.SQL("TRUE"), []
    if not text.strip():
        raise ODataError(400, "$filter is empty")
    compiler = _Compiler(entity_set)
    condition = compiler.compile(parse(text))
    return condition, compiler.params


def order_by(entity_set: EntitySet, text: str | None) -> psql.Composable:
    """`$orderby` (properties, asc/desc), then the key: a total order, so that pages never overlap."""
    parts, seen = [], set()
    for item in (text.split(",") if text else []):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise ODataError(400, f"$orderby: {item.strip()[:60]!r} is not 'property [asc|desc]'")
        p = entity_set.prop(words[0])
        if p is None:
            raise ODataError(400, f"$orderby: {entity_set.name} has no property {words[0][:60]!r}")
        direction = "DESC NULLS LAST" if len(words) == 2 and words[1] == "desc" else "ASC NULLS FIRST"
        parts.append(psql.SQL(f"{p.sql} {direction}"))
        seen.add(p.name)
    parts += [psql.SQL(f"{entity_set.prop(k).sql} ASC") for k in entity_set.key if k not in seen]
    return psql.SQL(", ").join(parts)
