"""The console app on each store, with a password for each user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import console_config, give_passwords

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


@pytest.fixture
def settings(factory: sessionmaker[Session], clock: VirtualClock) -> Settings:
    config = console_config()
    give_passwords(factory, clock, config)
    return Settings(config, factory, clock)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client
