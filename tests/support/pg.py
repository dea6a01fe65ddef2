"""PostgreSQL for the tests: the admin URL, another database's URL, and a throwaway schema for
tests that build their own tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

# An admin URL: the tests create (and drop) their databases and schemas through it.
PG_URL = os.environ.get(
    "TOCSIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pg_url(database: str) -> str:
    """The URL of another database on the same server."""
    return PG_URL.rsplit("/", 1)[0] + "/" + database


@contextmanager
def pg_schema(prefix: str = "t") -> Iterator[str]:
    """Yield a URL whose search_path is a fresh schema; drop it afterwards. Fails (never
    skips) when PostgreSQL is down, as CI requires."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: {exc.orig}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
