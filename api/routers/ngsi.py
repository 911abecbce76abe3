"""/ngsi-ld/v1: NGSI-LD (ETSI GS CIM 009), read only, over the same data, keys and access log as the
rest of the API — entities (`GET /entities`, `/entities/{id}`), their types, their temporal
evolution (`/temporal/entities`), and the `@context` documents (no key: JSON-LD processors fetch
them). Paging is over the matching entities in id order, so a page past the first is never empty
while the count says more (Orion-LD #1407); at most `limit` (≤ 1000) entities a page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from api.access import trace
from api.deps import Reader, Viewer
from api.ngsi import context, geo, model, query, store, temporal
from api.ngsi.exceptions import NgsiError
from api.params import NO_NUL
from api.problems import documented

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD"], responses=documented(400, 401, 403, 406, 501, 503))
Text = Annotated[str | None, Query(max_length=4000, pattern=NO_NUL)]
Limit = Annotated[int, Query(ge=0, le=1_000_000, description="entities a page (at most 1000; default 20)")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
ENTITIES = {200: {"description": "entities", "content": {context.JSON: {}, context.LD: {}, context.GEO: {}}}}
JSON_LD = {200: {"description": "JSON or JSON-LD", "content": {context.JSON: {}, context.LD: {}}}}
MAX_LIMIT = 1000


def _names(text: str | None, what: str) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.replace("|", ",").split(",") if n.strip()]
    if not names:
        raise NgsiError(400, "BadRequestData", f"{what} is empty")
    return names


def _answer(request: Request, media: str, body, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if media == context.LD:
        url = context.context_url(request)
        if isinstance(body, list):
            body = [{**item, "@context": url} for item in body]
        else:
            body = {**body, "@context": url}
    else:
        headers["Link"] = context.link(request)
    return Response(orjson.dumps(body), media_type=media, headers=headers)


async def select(request: Request, conn, type_: str | None, id_: str | None, id_pattern: str | None,
                 q: str | None, georel: str | None, geometry: str | None, coordinates: str | None,
                 geoproperty: str) -> list[dict]:
    """The entities a query selects, normalized, in id order (before `attrs` and paging)."""
    context.check_link(request)
    types = [context.expand_type(t) for t in _names(type_, "type")] if type_ else list(model.TYPES)
    types = [t for t in types if t in model.TYPES]  # a type this broker does not hold matches nothing
    ids = _names(id_, "id")
    tree = query.parse(q) if q else None
    where = geo.parse(georel, geometry, coordinates)
    if not types:
        return []
    found = await store.entities(conn, types, ids, id_pattern, request.app.state.settings.ngsi_statement_timeout_ms)
    return [e for e in found if (tree is None or query.matches(tree, e))
            and (where is None or where.matches(e, geoproperty))]


def _attrs(text: str | None) -> set[str] | None:
    names = _names(text, "attrs")
    return None if names is None else {context.short(n) for n in names}


def _page(limit: int, offset: int, count: bool) -> None:
    if limit > MAX_LIMIT:
        raise NgsiError(403, "TooManyResults", f"limit {limit}: at most {MAX_LIMIT} entities a page (page with offset)")
    if limit == 0 and not count:
        raise NgsiError(400, "BadRequestData", "limit=0 answers only with count=true")


def _simplified(options: str | None, fmt: str | None) -> bool:
    opts = set(_names(options, "options") or [])
    allowed = {"keyValues", "simplified", "normalized", "sysAttrs", "temporalValues", "aggregatedValues"}
    if opts - allowed:
        raise NgsiError(400, "BadRequestData", f"options {sorted(opts - allowed)}: this answers {sorted(allowed)}")
    if fmt not in (None, "simplified", "keyValues", "normalized", "temporalValues", "aggregatedValues"):
        raise NgsiError(400, "BadRequestData", f"format {fmt!r}: normalized, simplified (keyValues)")
    return bool(opts & {"keyValues", "simplified"}) or fmt in ("simplified", "keyValues")


@router.get("/entities", summary="entities: devices' latest observations and areas' latest hourly AQI",
            responses=ENTITIES)
async def entities(request: Request, conn: Reader, _: Viewer, type: Text = None, id: Text = None,
                   idPattern: Text = None, attrs: Text = None, q: Text = None, georel: Text = None,
                   geometry: Text = None, coordinates: Text = None, geoproperty: Literal["location"] = "location",
                   limit: Limit = 20, offset: Offset = 0, count: bool = False, options: Text = None,
                   format: Text = None) -> Response:
    media = context.negotiate(request)
    _page(limit, offset, count)
    keyvalues = _simplified(options, format)
    chosen = _attrs(attrs)
    found = await select(request, conn, type, id, idPattern, q, georel, geometry, coordinates, geoproperty)
    if chosen is not None:
        found = [e for e in found if chosen & set(e)]
    page = [model.project(e, chosen) for e in found[offset:offset + limit]]
    trace(request, ",".join(sorted({e["type"] for e in page})) or (type or "none")[:100], len(page))
    headers = {"NGSILD-Results-Count": str(len(found))} if count else {}
    if media == context.GEO:
        body = {"type": "FeatureCollection", "features": [model.feature(e, keyvalues) for e in page]}
        return _answer(request, media, body, headers)
    return _answer(request, media, [model.simplified(e) if keyvalues else e for e in page], headers)


@router.get("/entities/{entityId}", summary="one entity", responses={**ENTITIES, **documented(404)})
async def entity(request: Request, conn: Reader, _: Viewer,
                 entityId: Annotated[str, Path(max_length=300, pattern=NO_NUL)], attrs: Text = None,
                 options: Text = None, format: Text = None) -> Response:
    media = context.negotiate(request)
    keyvalues = _simplified(options, format)
    parsed = model.split_id(entityId)
    if ":" not in entityId:
        raise NgsiError(400, "BadRequestData", f"{entityId[:100]!r} is not a URI (urn:ngsi-ld:<Type>:<id>)")
    found = [] if parsed is None or parsed[0] not in model.TYPES else await store.entities(
        conn, [parsed[0]], [entityId], None, request.app.state.settings.ngsi_statement_timeout_ms)
    if not found:
        raise NgsiError(404, "ResourceNotFound", f"no entity {entityId[:200]!r} (GET /ngsi-ld/v1/entities lists them)")
    shown = model.project(found[0], _attrs(attrs))
    trace(request, shown["type"], 1)
    if media == context.GEO:
        return _answer(request, media, model.feature(shown, keyvalues))
    return _answer(request, media, model.simplified(shown) if keyvalues else shown)


@router.get("/types", summary="the entity types held, with their attributes (details=true)", responses=JSON_LD)
async def types(request: Request, conn: Reader, _: Viewer, details: bool = False) -> Response:
    media = context.negotiate(request, (context.JSON, context.LD))
    found = await store.entities(conn, list(model.TYPES), None, None, request.app.state.settings.ngsi_statement_timeout_ms)
    held: dict[str, set[str]] = {}
    for e in found:
        held.setdefault(e["type"], set()).update(k for k in e if k not in ("id", "type"))
    trace(request, "EntityType", len(held))
    if details:
        return _answer(request, media, [{"id": context.iri(t), "type": "EntityType", "typeName": t,
                                         "attributeNames": sorted(names)} for t, names in sorted(held.items())])
    return _answer(request, media, {"id": "urn:ngsi-ld:EntityTypeList:citysense", "type": "EntityTypeList",
                                    "typeList": sorted(held)})


@router.get("/jsonldContexts/{name}", summary="the @context documents: citysense's and the ETSI core (no key)",
            responses={200: {"content": {context.LD: {}}}, **documented(404)})
async def contexts(request: Request, name: Annotated[str, Path(max_length=100, pattern=NO_NUL)]) -> Response:
    if name == context.OWN_NAME:
        body = context.own(request)
    elif name == context.CORE_NAME:
        body = context.core()
    else:
        raise NgsiError(404, "ResourceNotFound", f"no @context {name[:100]!r}: {context.OWN_NAME} or {context.CORE_NAME}")
    return Response(orjson.dumps(body), media_type=context.LD, headers={"Cache-Control": "public, max-age=3600"})


def _temporal_query(request: Request, timerel: str | None, timeAt: datetime | None, endTimeAt: datetime | None,
                    lastN: int | None, aggrMethods: str | None, aggrPeriodDuration: str | None,
                    options: str | None) -> tuple[temporal.TemporalQuery, bool]:
    settings = request.app.state.settings
    for name, value in (("timeAt", timeAt), ("endTimeAt", endTimeAt)):
        if value is not None and value.tzinfo is None:
            raise NgsiError(400, "BadRequestData", f"{name} needs a UTC offset (2026-12-03T08:00:00Z)")
        if value is not None and not 1900 <= value.year <= 2200:
            raise NgsiError(400, "BadRequestData", f"{name}: a time between the years 1900 and 2200")
    methods = tuple(_names(aggrMethods, "aggrMethods") or ())
    if set(methods) - set(temporal.METHODS):
        raise NgsiError(400, "BadRequestData", f"aggrMethods {sorted(set(methods) - set(temporal.METHODS))}: "
                                               f"this answers {', '.join(temporal.METHODS)}")
    if methods and not aggrPeriodDuration:
        raise NgsiError(400, "BadRequestData", "aggrMethods needs aggrPeriodDuration (e.g. PT1H)")
    period = temporal.duration(aggrPeriodDuration) if aggrPeriodDuration else None
    if period and not methods:
        raise NgsiError(400, "BadRequestData", "aggrPeriodDuration needs aggrMethods (e.g. avg,max)")
    limit = timedelta(days=settings.ngsi_aggr_range_days if methods else settings.max_raw_range_days)
    if timerel is None:
        if timeAt or endTimeAt or not lastN:
            raise NgsiError(400, "BadRequestData", "timerel (before, after, between) with timeAt, or lastN alone")
        end = datetime.now(timezone.utc)
        start = end - limit
    elif timeAt is None:
        raise NgsiError(400, "BadRequestData", f"timerel={timerel} needs timeAt")
    elif timerel == "between":
        if endTimeAt is None or endTimeAt <= timeAt:
            raise NgsiError(400, "BadRequestData", "timerel=between needs endTimeAt after timeAt")
        start, end = timeAt, endTimeAt
    elif timerel == "before":
        start, end = timeAt - limit, timeAt
    else:  # after: strictly after timeAt
        start, end = timeAt + timedelta(microseconds=1), timeAt + limit
    if end - start > limit + timedelta(microseconds=1):
        raise NgsiError(400, "BadRequestData", f"a range of at most {limit.days} days "
                                               f"({'aggregated' if methods else 'instance by instance'}); page by time")
    simplified = "temporalValues" in set(_names(options, "options") or [])
    return temporal.TemporalQuery(start, end, lastN, methods, period), simplified


@router.get("/temporal/entities", summary="entities' history: instances, lastN, or aggregates per period",
            responses=JSON_LD)
async def temporal_entities(request: Request, conn: Reader, _: Viewer, type: Text = None, id: Text = None,
                            idPattern: Text = None, attrs: Text = None, q: Text = None, georel: Text = None,
                            geometry: Text = None, coordinates: Text = None, timerel: Literal[
                                "before", "after", "between"] | None = None, timeAt: datetime | None = None,
                            endTimeAt: datetime | None = None, lastN: Annotated[int | None, Query(ge=1, le=100_000)] = None,
                            aggrMethods: Text = None, aggrPeriodDuration: Text = None, options: Text = None,
                            limit: Limit = 20, offset: Offset = 0, count: bool = False) -> Response:
    media = context.negotiate(request, (context.JSON, context.LD))
    _page(limit, offset, count)
    _simplified(options, None)
    tq, simplified = _temporal_query(request, timerel, timeAt, endTimeAt, lastN, aggrMethods, aggrPeriodDuration,
                                     options)
    found = await select(request, conn, type, id, idPattern, q, georel, geometry, coordinates, "location")
    page = found[offset:offset + limit]
    body, instances = await temporal.history(conn, page, _attrs(attrs), tq,
                                             request.app.state.settings.ngsi_max_instances, simplified)
    trace(request, ",".join(sorted({e["type"] for e in page})) or "none", instances)
    return _answer(request, media, body, {"NGSILD-Results-Count": str(len(found))} if count else {})


@router.get("/temporal/entities/{entityId}", summary="one entity's history", responses={**JSON_LD, **documented(404)})
async def temporal_entity(request: Request, conn: Reader, _: Viewer,
                          entityId: Annotated[str, Path(max_length=300, pattern=NO_NUL)], attrs: Text = None,
                          timerel: Literal["before", "after", "between"] | None = None, timeAt: datetime | None = None,
                          endTimeAt: datetime | None = None,
                          lastN: Annotated[int | None, Query(ge=1, le=100_000)] = None, aggrMethods: Text = None,
                          aggrPeriodDuration: Text = None, options: Text = None) -> Response:
    media = context.negotiate(request, (context.JSON, context.LD))
    _simplified(options, None)
    tq, simplified = _temporal_query(request, timerel, timeAt, endTimeAt, lastN, aggrMethods, aggrPeriodDuration,
                                     options)
    parsed = model.split_id(entityId)
    found = [] if parsed is None or parsed[0] not in model.TYPES else await store.entities(
        conn, [parsed[0]], [entityId], None, request.app.state.settings.ngsi_statement_timeout_ms)
    if not found:
        raise NgsiError(404, "ResourceNotFound", f"no entity {entityId[:200]!r} (GET /ngsi-ld/v1/entities lists them)")
    body, instances = await temporal.history(conn, found, _attrs(attrs), tq,
                                             request.app.state.settings.ngsi_max_instances, simplified)
    trace(request, found[0]["type"], instances)
    return _answer(request, media, body[0])
