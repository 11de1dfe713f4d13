"""Property tests of the HTTP API by schemathesis: against the app's own /openapi.json, and
against the reference API description for the operations both share."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

import base64  # noqa: E402
from typing import Any  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case  # noqa: E402

from tests.server_fixtures import REFERENCE, Session, live  # noqa: E402, F401 - the fixture

SHARED_OPERATIONS = ["postSeatEvents", "getSeatEventsById", "getSeatEvents", "getSeatBalances"]
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _auth(live: Session) -> dict[str, str]:
    client_id, secret = live.key_a
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _run(schema: Any, live: Session, checks: list[Any]) -> list[str]:
    """Every operation of ``schema``, ``EXAMPLES`` cases each; returns the operations run."""
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @EXAMPLES
        @given(case=operation.as_strategy())
        def check(case: Case) -> None:
            case.call_and_validate(base_url=live.server.url, headers=_auth(live), checks=checks, timeout=30)

        check()
        ran.append(operation.label)
    return ran


def test_own_openapi(live: Session) -> None:
    schema = schemathesis.openapi.from_url(f"{live.server.url}/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    ran = _run(schema, live, checks)
    assert "POST /seat-events" in ran and "GET /seat-events/{id}" in ran


def test_reference_operations(live: Session) -> None:
    if not REFERENCE.exists():
        pytest.skip(f"the reference API description is not at {REFERENCE} (shared/ beside the repository)")
    schema = schemathesis.openapi.from_path(REFERENCE).include(operation_id=SHARED_OPERATIONS)
    ran = _run(schema, live, [not_a_server_error, content_type_conformance])
    assert len(ran) == len(SHARED_OPERATIONS)
