"""/odata: OData v4, minimal conformance, read only — the service document, `$metadata` (CSDL), and
the entity sets Areas, Devices, Readings, HourlyAggregates, Aqi and Alerts with `$filter`,
`$select`, `$orderby`, `$top`, `$skip`, `$count=true` and server-driven paging (`@odata.nextLink`,
at most CITYSENSE_API_ODATA_PAGE_ROWS a page, in a total order that ends with the key); other
system query options are a 501. Same keys and access log as the rest of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from psycopg import errors
from psycopg import sql as psql

from api.access import trace
from api.deps import Reader, Viewer
from api.ngsi.context import base_url
from api.odata import filter as odata_filter
from api.odata.exceptions import ODataError
from api.odata.schema import BY_NAME, SETS, metadata
from api.params import NO_NUL
from api.problems import documented

router = APIRouter(prefix="/odata", tags=["OData"], responses=documented(400, 401, 403, 501))
JSON = "application/json;odata.metadata=minimal"
HEADERS = {"OData-Version": "4.0"}
Option = Annotated[str | None, Query(max_length=4000, pattern=NO_NUL)]
ANSWERED = {"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$format"}
NOT_ANSWERED = {"$expand", "$apply", "$search", "$compute", "$levels", "$skiptoken", "$deltatoken", "$index",
                "$schemaversion"}


def _json(body: dict) -> Response:
    return Response(orjson.dumps(body), media_type=JSON, headers=HEADERS)


def _value(v):
    return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v


@router.get("", summary="the OData service document", responses={200: {"content": {JSON: {}}}})
async def service(request: Request, _: Viewer) -> Response:
    return _json({"@odata.context": f"{base_url(request)}/odata/$metadata",
                  "value": [{"name": s.name, "kind": "EntitySet", "url": s.name} for s in SETS]})


@router.get("/$metadata", summary="the CSDL document of the entity sets",
            responses={200: {"content": {"application/xml": {}}}})
async def csdl(_: Viewer) -> Response:
    return Response(metadata(), media_type="application/xml", headers=HEADERS)


def _options(request: Request) -> None:
    for name in request.query_params:
        if name in NOT_ANSWERED:
            raise ODataError(501, f"{name} is not answered by this service ({', '.join(sorted(ANSWERED))} are)")
        if name.startswith("$") and name not in ANSWERED:
            raise ODataError(400, f"unknown system query option {name[:40]!r}")
    fmt = request.query_params.get("$format")
    if fmt not in (None, "json", "application/json"):
        raise ODataError(501, f"$format={fmt[:40]!r}: only json")


@router.get("/{entity_set}", summary="an entity set, queried", responses={200: {"content": {JSON: {}}}, **documented(404)})
async def entity_set(request: Request, conn: Reader, _: Viewer,
                     entity_set: Annotated[str, Path(max_length=64, pattern=NO_NUL)],
                     filter_: Annotated[str | None, Query(alias="$filter", max_length=4000, pattern=NO_NUL)] = None,
                     select: Annotated[str | None, Query(alias="$select", max_length=4000, pattern=NO_NUL)] = None,
                     orderby: Annotated[str | None, Query(alias="$orderby", max_length=4000, pattern=NO_NUL)] = None,
                     top: Annotated[int | None, Query(alias="$top", ge=0, le=2**62)] = None,
                     skip: Annotated[int, Query(alias="$skip", ge=0, le=2**62)] = 0,
                     count: Annotated[bool, Query(alias="$count")] = False) -> Response:
    _options(request)
    s = BY_NAME.get(entity_set)
    if s is None:
        raise ODataError(404, f"no entity set {entity_set[:64]!r}: {', '.join(BY_NAME)} (GET /odata)")
    names = [n.strip() for n in select.split(",")] if select and select.strip() != "*" else [p.name for p in s.props]
    unknown = [n for n in names if s.prop(n) is None]
    if unknown or not names:
        raise ODataError(400, f"$select: {s.name} has no property {unknown[0][:60]!r}" if unknown else "$select is empty")
    condition, params = odata_filter.where(s, filter_)
    order = odata_filter.order_by(s, orderby)
    page_rows = request.app.state.settings.odata_page_rows
    take = page_rows if top is None else min(top, page_rows)
    source = psql.SQL(s.source) + psql.SQL(" AND " if " WHERE " in s.source else " WHERE ") + condition
    columns = psql.SQL(", ").join(psql.SQL("{} AS {}").format(psql.SQL(s.prop(n).sql), psql.Identifier(n))
                                  for n in names)
    timeout = request.app.state.settings.odata_statement_timeout_ms
    try:
        async with conn.transaction():
            await conn.execute(psql.SQL("SET LOCAL statement_timeout = {}").format(psql.Literal(timeout)))
            rows = await (await conn.execute(
                psql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT %s OFFSET %s").format(columns, source, order),
                [*params, take + 1, skip])).fetchall() if take else []  # one more: is there a next page?
            total = (await (await conn.execute(psql.SQL("SELECT count(*) AS n FROM {}").format(source),
                                               params)).fetchone())["n"] if count else None
    except errors.QueryCanceled:
        raise ODataError(400, f"the query ran over {timeout} ms: a narrower $filter (by time: ts, window_start, "
                              "start) or without $count")
    except (errors.NumericValueOutOfRange, errors.DatetimeFieldOverflow, errors.InvalidDatetimeFormat) as exc:
        raise ODataError(400, f"$filter: a value out of range ({exc.diag.message_primary})")
    body = {"@odata.context": f"{base_url(request)}/odata/$metadata#{s.name}"
                              + (f"({','.join(names)})" if select else "")}
    if count:
        body["@odata.count"] = total
    more = len(rows) > take
    rows = rows[:take]
    body["value"] = [{k: _value(v) for k, v in r.items()} for r in rows]
    remaining = None if top is None else top - len(rows)
    if more and (remaining is None or remaining > 0):
        following = {k: v for k, v in request.query_params.items() if k not in ("$skip", "$top")}
        following["$skip"] = str(skip + len(rows))
        if remaining is not None:
            following["$top"] = str(remaining)
        body["@odata.nextLink"] = f"{base_url(request)}/odata/{s.name}?{urlencode(following)}"
    trace(request, s.entity_label, len(rows))
    return _json(body)
