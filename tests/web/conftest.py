"""The app on each store backend, a virtual clock, and tokens of each scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config, make_token

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


@pytest.fixture
def settings(factory: sessionmaker[Session], clock: VirtualClock) -> Settings:
    # Later ends are flushed by the tests when they mean to, not every real second.
    return Settings(api_config(), factory, clock, flush_every=timedelta(hours=1))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def ingest(factory: sessionmaker[Session], clock: VirtualClock) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(factory, clock, "prometheus", "ingest")}


@pytest.fixture
def admin(factory: sessionmaker[Session], clock: VirtualClock) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(factory, clock, "ops", "admin")}
