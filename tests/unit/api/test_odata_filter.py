"""$filter into SQL: the SQL text holds only properties' expressions from the schema and
placeholders; every literal a client wrote is a parameter (so no text of theirs can be SQL);
OData's null semantics; what is refused, and with which status."""

from __future__ import annotations

import pytest

from api.odata import filter as odata_filter
from api.odata.exceptions import ODataError
from api.odata.schema import BY_NAME, metadata

pytestmark = pytest.mark.unit
READINGS, AREAS = BY_NAME["Readings"], BY_NAME["Areas"]


def compiled(text: str, entity_set=READINGS) -> tuple[str, list]:
    condition, params = odata_filter.where(entity_set, text)
    return condition.as_string(None), params


@pytest.mark.parametrize("text, sql, params", [
    ("area eq 10507", "r.district = %s", [10507]),
    ("pm2_5 ne 3", "(r.pm2_5 <> %s OR r.pm2_5 IS NULL)", [3]),  # OData: null ne 3 is true
    ("pm2_5 eq null", "r.pm2_5 IS NULL", []),
    ("10 lt pm2_5", "r.pm2_5 > %s", [10]),
    ("not (pm2_5 gt 3.5)", "(NOT coalesce(r.pm2_5 > %s, false))", [3.5]),
    ("kind in ('noise', 'traffic') or area le 2", "(r.kind IN (%s, %s) OR r.district <= %s)", ["noise", "traffic", 2]),
    ("contains(device_id, 'aq') and startswith(kind, 'air') and endswith(status, 'ing')",
     "((strpos(r.device_id, %s) > 0 AND starts_with(r.kind, %s)) AND starts_with(reverse(r.status), reverse(%s)))",
     ["aq", "air", "ing"]),
])
def test_compiles_to_sql_with_parameters(text, sql, params):
    assert compiled(text) == (sql, params)


@pytest.mark.parametrize("literal", ["x'; DROP TABLE readings; --", "%s", "$1", "\\", "' OR 1=1 --", "ü\u200b"])
def test_a_literal_is_never_sql_text(literal):
    escaped = literal.replace("'", "''")
    sql, params = compiled(f"device_id eq '{escaped}'")
    assert sql == "r.device_id = %s" and params == [literal]


def test_orderby_ends_with_the_key():
    assert odata_filter.order_by(READINGS, "pm2_5 desc").as_string(None) == (
        "r.pm2_5 DESC NULLS LAST, r.device_id ASC, r.ts ASC, r.status ASC")
    assert odata_filter.order_by(AREAS, None).as_string(None) == "a.code ASC"


@pytest.mark.parametrize("text, status", [
    ("nope eq 1", 400), ("area eq 'x'", 400), ("kind eq 1", 400), ("area add 1 eq 2", 501), ("length(kind) eq 3", 501),
    ("area", 400), ("'", 400), ("", 400), ("area eq 1 and " * 300 + "area eq 2", 400), ("pm2_5 eq 1e999", 400),
    ("area eq 99999999999999999999", 400), ("device_id eq 'a\u0000'", 400), ("contains(area, 'x')", 400),
    ("pm2_5 gt null", 400), ("area eq area", 501), ("ts eq 2026-12-01", 501), ("x" * 5000, 400),
])
def test_refused(text, status):
    with pytest.raises(ODataError) as caught:
        odata_filter.where(READINGS, text)
    assert caught.value.status == status


def test_the_metadata_names_every_property():
    csdl = metadata()
    for s in BY_NAME.values():
        assert f'<EntitySet Name="{s.name}" EntityType="citysense.{s.entity_type}"/>' in csdl
        for p in s.props:
            assert f'<Property Name="{p.name}" Type="{p.edm}"' in csdl
