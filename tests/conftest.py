"""Shared fixtures: a store on SQLite and on PostgreSQL, the virtual clock, config helpers.

Every test that asks for `factory` runs twice, once per backend. PostgreSQL is required:
if it is down the PostgreSQL half fails (it never skips), as CI demands.
"""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from tests.support.pg import PG_URL, pg_url
from tests.support.store import truncate

from tocsin import store as versions
from tocsin.clock import VirtualClock
from tocsin.db import make_engine, make_sessionmaker

# Fixtures of shared helpers: `start` (real processes), `make_server` (SMTP servers),
# `browser` and `page` (Debian's chromium through Playwright).
pytest_plugins = ["tests.support.processes", "tests.support.smtp", "tests.support.browser"]

START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)  # a Tuesday, 09:00 in New York


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    name = f"tocsin_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_url(name)
    engine = make_engine(url)
    versions.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    versions.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL in, so one file copy is the whole store
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "store.db"
        path.write_bytes(template.read_bytes())
        yield f"sqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_database")
        engine = make_engine(url)
        truncate(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def closed_port() -> int:
    """A port that nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
