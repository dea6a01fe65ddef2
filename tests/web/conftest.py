"""The app on each store backend, a virtual clock, and tokens of each scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.tokens import service as auth
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

HEARTBEAT_KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
CRON_KEY = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

CONFIG = f"""
public_url: https://tocsin.example
secret_key: "an-ack-link-secret-that-is-long-enough-0123"
api: {{rate_limit: 1000, rate_burst: 1000}}
channels:
  console: {{type: console}}
heartbeats:
  - {{name: backup, uuid: "{HEARTBEAT_KEY}", every: 1h, grace: 10m, severity: HIGH,
     labels: {{service: db}}}}
  - {{name: nightly, uuid: "{CRON_KEY}", cron: "0 3 * * *", timezone: America/New_York,
     grace: 30m}}
  - {{name: generated, every: 1d}}
"""


def api_config(extra: str = "") -> TocsinConfig:
    config, _ = parse(CONFIG + extra, "test.yaml", env={})
    return config


def make_token(factory: sessionmaker[Session], clock: VirtualClock, name: str, scopes: str) -> str:
    with session_scope(factory) as session:
        _, token = auth.create(session, name, auth.parse_scopes(scopes), clock.now())
    return token


@pytest.fixture
def settings(factory: sessionmaker[Session], clock: VirtualClock) -> Settings:
    return Settings(api_config(), factory, clock)


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
