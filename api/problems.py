"""Errors as RFC 9457 problem details (`application/problem+json`): a type, a title, the status, a
detail that names the cause, and for bad parameters which ones (`errors`: name, location, why)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          406: "Not acceptable", 409: "Conflict", 422: "Unprocessable content", 429: "Too many requests",
          500: "Internal server error", 501: "Not implemented", 503: "Service unavailable"}


PROBLEM_SCHEMA = {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "instance": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object"}}}}


def documented(*statuses: int) -> dict:
    """OpenAPI `responses` for problem details of these statuses (a router's `responses=`)."""
    return {s: {"description": TITLES.get(s, "Error"), "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
            for s in statuses}


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None, type_uri: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers
        self.type_uri = type_uri  # a standard's error type (NGSI-LD's); ours by status otherwise


def body(status: int, detail: str, instance: str, errors: list[dict] | None = None,
         type_uri: str | None = None) -> dict:
    out = {"type": type_uri or f"https://citysense.example/problems/{status}", "title": TITLES.get(status, "Error"),
           "status": status, "detail": detail, "instance": instance}
    if errors:
        out["errors"] = errors
    return out


def respond(request: Request, status: int, detail: str, errors=None, headers=None, type_uri=None) -> JSONResponse:
    return JSONResponse(body(status, detail, request.url.path, errors, type_uri), status_code=status,
                        media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return respond(request, exc.status, exc.detail, exc.errors, exc.headers, exc.type_uri)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"name": ".".join(str(p) for p in e["loc"][1:]) or e["loc"][0], "in": e["loc"][0],
                   "detail": e["msg"]} for e in exc.errors()]
        names = ", ".join(e["name"] for e in errors)
        ngsi = request.url.path.startswith("/ngsi-ld/")  # NGSI-LD's clients look for its error types
        return respond(request, 400, f"invalid parameter(s): {names}", errors,
                       type_uri="https://uri.etsi.org/ngsi-ld/errors/BadRequestData" if ngsi else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return respond(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return respond(request, 500, "unexpected error: see the API's log (citysense api)")
