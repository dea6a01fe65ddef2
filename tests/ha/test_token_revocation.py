"""A token revoked in the store (by `tocsin token revoke` on any machine) stops working on
every API instance within `TOKEN_CACHE_SECONDS` (1 s), though each had it cached."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config, make_token

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.tokens import service as auth
from tocsin.web.app import create_app
from tocsin.web.deps import TOKEN_CACHE_SECONDS, Settings


@pytest.fixture
def apis(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[list[TestClient]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(TestClient(create_app(Settings(api_config(), factory, clock))))
            for _ in range(2)
        ]


def test_a_revoked_token_stops_working_on_every_instance_within_a_second(
    apis: list[TestClient], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert TOKEN_CACHE_SECONDS <= 1.0
    token = make_token(factory, clock, "grafana", "read")
    assert [api.get("/api/v1/alerts", auth=("x", token)).status_code for api in apis] == [200, 200]
    with session_scope(factory) as s:
        auth.revoke(s, "grafana", clock.now())
    time.sleep(TOKEN_CACHE_SECONDS + 0.05)  # the cache's bound, not a measured speed
    assert [api.get("/api/v1/alerts", auth=("x", token)).status_code for api in apis] == [401, 401]
