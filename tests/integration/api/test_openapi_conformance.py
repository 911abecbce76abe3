"""schemathesis against the live API's own OpenAPI document: every operation (but the endless live
stream), with an operator's key, generated inputs valid and invalid — never a 5xx, invalid input
rejected, and every response conforms to the status codes, content types, headers and schemas the
document declares. (One test walks the operations:
schemathesis' pytest fixture loader does not run under pytest 9.)"""

from __future__ import annotations

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def test_every_operation_conforms_to_the_openapi_document(module_api):
    schema = schemathesis.openapi.from_url(module_api.url + "/api/v1/openapi.json").exclude(path="/api/v1/events")
    headers = {"Authorization": f"Bearer {module_api.tokens['operator']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            # every check but "a schema-valid request is accepted": the data decides that here (an
            # unknown area is a 404, `from` after `to` a 400)
            case.call_and_validate(headers=headers, timeout=30, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    # and each operation was called (the access log is the API's own record of it)
    def routes() -> set[str]:
        with psycopg.connect(module_api.dsn) as conn:
            return {r[0] for r in conn.execute("SELECT DISTINCT method || ' ' || route FROM api_access_log")}

    # the log is written in batches by a task of its own: wait for the operations themselves (a count
    # would also count "(no route)" and other templates, and could be reached before the last batch)
    called = {f"{o.method.upper()} {o.path}" for o in operations}
    try:
        wait_for(lambda: called <= routes(), 10, what="every operation in the access log")
    except AssertionError:
        assert called <= routes()  # names the operations that are missing
