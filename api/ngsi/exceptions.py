"""NGSI-LD's errors: problem details whose type is one of ETSI GS CIM 009's error types."""

from __future__ import annotations

from api.problems import Problem

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiError(Problem):
    """`kind`: BadRequestData, InvalidRequest, ResourceNotFound, TooManyResults, OperationNotSupported,
    NotAcceptable, LdContextNotAvailable."""

    def __init__(self, status: int, kind: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers=headers, type_uri=ERRORS + kind)
