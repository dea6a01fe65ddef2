"""Schemathesis over the OpenAPI document, bounded (a few hundred cases), on SQLite and on
PostgreSQL: no 500s anywhere, and under /api/v1 every answer has a status the operation
declares and the shape it documents.

Every call carries an admin token so the fuzzing reaches the handlers rather than stopping
at 401.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.instances.models import WorkerHeartbeat
from tocsin.tokens import service as auth
from tocsin.web.app import OPENAPI_URL, create_app
from tocsin.web.deps import Settings

pytestmark = pytest.mark.slow
START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


@pytest.fixture
def fuzzed(factory: sessionmaker[Session]) -> tuple[Any, str]:
    clock = VirtualClock(START)
    with session_scope(factory) as session:
        _, token = auth.create(session, "fuzzer", frozenset({"admin"}), clock.now())
        # a live worker, so /readyz answers 200 (its 503 is by design, not a server error)
        session.add(
            WorkerHeartbeat(id="w", hostname="h", pid=1, started_at=START, heartbeat_at=START)
        )
    return create_app(Settings(api_config(), factory, clock)), token


def test_no_input_makes_the_api_fail(fuzzed: tuple[Any, str]) -> None:
    app, token = fuzzed
    headers = {"Authorization": f"Bearer {token}"}
    loaded = schemathesis.openapi.from_asgi(OPENAPI_URL, app)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) > 15
    for operation in operations:
        checks = [not_a_server_error]
        if operation.path.startswith("/api/v1/"):
            checks += [status_code_conformance, response_schema_conformance]
        fuzz(operation, headers, checks)


def fuzz(operation: Any, headers: dict[str, str], checks: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    call()
