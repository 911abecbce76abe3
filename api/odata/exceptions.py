"""OData's errors: problem details (the API's), with the status OData gives — 400 for a bad query
option, 501 for one this service does not answer."""

from __future__ import annotations

from api.problems import Problem


class ODataError(Problem):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail, headers={"OData-Version": "4.0"})
