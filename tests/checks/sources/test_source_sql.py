"""The SQL source on a real SQLite file and a real PostgreSQL, each test on its own table.

PostgreSQL is required: when it is down these tests fail, they never skip (CI demands them).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tocsin.checks.sources import SqlSource, open_source
from tocsin.config import SqlSourceConfig
from tocsin.errors import SourceError

PG_URL = os.environ.get(
    "TOCSIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ORDERS = [
    (1, "paid", "10.50", datetime(2026, 11, 17, 12, 0, tzinfo=UTC)),
    (2, "pending", "20.00", datetime(2026, 11, 17, 13, 0, tzinfo=UTC)),
    (3, "pending", "5.25", datetime(2026, 11, 17, 13, 30, tzinfo=UTC)),
]
# Runs until interrupted, on either database.
ENDLESS = {
    "sqlite": "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
    "SELECT count(*) FROM r",
    "postgresql": "SELECT pg_sleep(5)",
}


@dataclass
class Shop:
    """A database holding one `orders` table, and a way to count its rows behind our back."""

    dialect: str
    url: str
    table: str
    writable_url: str

    def source(self, timeout: timedelta = timedelta(seconds=5)) -> SqlSource:
        return SqlSource(SqlSourceConfig(type="sql", url=self.url, statement_timeout=timeout))

    def count(self) -> int:
        engine = create_engine(self.writable_url)
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT count(*) FROM {self.table}")).scalar_one()
        engine.dispose()
        return int(found)


def _sqlite_shop(tmp_path: Path) -> Shop:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE orders (id INTEGER, status TEXT, amount NUMERIC, created_at TEXT)"
        )
        # Timestamps as naive UTC text, the way the demo stores them.
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [(i, s, float(a), t.strftime("%Y-%m-%d %H:%M:%S")) for i, s, a, t in ORDERS],
        )
    conn.close()
    return Shop("sqlite", f"sqlite:///{path}", "orders", f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    if request.param == "sqlite":
        yield _sqlite_shop(tmp_path)
        return
    schema = f"tocsin_source_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        conn.execute(
            text(
                f"CREATE TABLE {schema}.orders "
                "(id integer, status text, amount numeric(10, 2), created_at timestamptz)"
            )
        )
        conn.execute(
            text(f"INSERT INTO {schema}.orders VALUES (:i, :s, CAST(:a AS numeric), :t)"),
            [{"i": i, "s": s, "a": a, "t": t} for i, s, a, t in ORDERS],
        )
    # A plain postgresql:// URL, as operators write it: the source picks psycopg 3 itself.
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        yield Shop("postgresql", plain, f"{schema}.orders", PG_URL)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def fetch(shop: Shop, query: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
    source = shop.source(**kw)
    try:
        return source.fetch(query.format(t=shop.table), params or {})
    finally:
        source.close()


def failure(shop: Shop, query: str, **kw: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        fetch(shop, query, **kw)
    return caught.value


def test_it_returns_rows_as_dicts_with_params_bound(shop: Shop) -> None:
    rows = fetch(
        shop,
        "SELECT id, status FROM {t} WHERE status = :status ORDER BY id",
        {"status": "pending", "unused": "ignored"},
    )

    assert rows == [{"id": 2, "status": "pending"}, {"id": 3, "status": "pending"}]


def test_counts_stay_ints_and_decimals_become_floats(shop: Shop) -> None:
    (row,) = fetch(shop, "SELECT count(*) AS n, sum(amount) AS total FROM {t}")

    assert row == {"n": 3, "total": pytest.approx(35.75)}
    assert type(row["n"]) is int
    assert type(row["total"]) is float


def test_an_aware_datetime_param_compares_with_stored_timestamps(shop: Shop) -> None:
    since = datetime(2026, 11, 17, 14, 15, tzinfo=timezone(timedelta(hours=1)))  # 13:15 UTC

    rows = fetch(shop, "SELECT id FROM {t} WHERE created_at >= :since", {"since": since})

    assert rows == [{"id": 3}]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO {t} (id, status) VALUES (9, 'forged')",
        "UPDATE {t} SET status = 'refunded'",
        "DELETE FROM {t}",
        "DROP TABLE {t}",
        "CREATE TABLE {t}_copy (id integer)",
    ],
)
def test_writes_are_refused_and_change_nothing(shop: Shop, statement: str) -> None:
    error = failure(shop, statement)

    assert error.kind == "query"
    assert str(error).startswith("the source is read-only: ")
    assert shop.count() == 3


def test_a_second_statement_cannot_turn_read_only_off(shop: Shop) -> None:
    error = failure(shop, "SET TRANSACTION READ WRITE; DELETE FROM {t}; COMMIT")

    assert error.kind == "query"
    assert shop.count() == 3


def test_a_syntax_error_is_a_query_error(shop: Shop) -> None:
    error = failure(shop, "SELEKT id FROM {t}")

    assert error.kind == "query"
    assert "SELEKT" in str(error)


def test_a_missing_table_is_a_query_error(shop: Shop) -> None:
    error = failure(shop, "SELECT * FROM no_such_table_here")

    assert error.kind == "query"
    assert "no_such_table_here" in str(error)


def test_a_missing_param_is_a_query_error(shop: Shop) -> None:
    error = failure(shop, "SELECT id FROM {t} WHERE status = :status")

    assert error.kind == "query"
    assert "status" in str(error)


def test_a_long_statement_times_out_and_the_source_recovers(shop: Shop) -> None:
    source = shop.source(timeout=timedelta(milliseconds=200))
    try:
        with pytest.raises(SourceError) as caught:
            source.fetch(ENDLESS[shop.dialect], {})
        assert caught.value.kind == "timeout"
        assert source.fetch("SELECT 1 AS one", {}) == [{"one": 1}]
    finally:
        source.close()


def test_too_many_rows_is_a_query_error(shop: Shop) -> None:
    error = failure(
        shop,
        "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 10001) "
        "SELECT x FROM r",
    )

    assert error.kind == "query"
    assert "more than 10000 rows" in str(error)


def test_worker_threads_can_share_one_source(shop: Shop) -> None:
    source = shop.source()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = list(
                pool.map(
                    lambda _: source.fetch(f"SELECT count(*) AS n FROM {shop.table}", {}),
                    range(16),
                )
            )
    finally:
        source.close()

    assert counts == [[{"n": 3}]] * 16


def test_open_source_builds_an_sql_source_with_the_dialect(shop: Shop) -> None:
    source = open_source(SqlSourceConfig(type="sql", url=shop.url))

    assert isinstance(source, SqlSource)
    assert source.dialect == shop.dialect
    source.close()


# --- one database only ---------------------------------------------------------------------


def test_a_missing_sqlite_file_is_unreachable_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    source = SqlSource(SqlSourceConfig(type="sql", url=f"sqlite:///{path}"))

    with pytest.raises(SourceError) as caught:
        source.fetch("SELECT 1", {})

    assert caught.value.kind == "unreachable"
    assert not path.exists()


def test_sqlite_cannot_attach_a_file_to_write_into(tmp_path: Path) -> None:
    shop = _sqlite_shop(tmp_path)
    target = tmp_path / "smuggled.db"

    for statement in (f"ATTACH DATABASE '{target}' AS w", f"VACUUM INTO '{target}'"):
        assert failure(shop, statement).kind == "query"

    assert not target.exists()


def test_an_unreachable_postgresql_is_named_without_its_password(closed_port: int) -> None:
    url = f"postgresql://tocsin:s3cret-pa55@127.0.0.1:{closed_port}/shop"
    source = SqlSource(SqlSourceConfig(type="sql", url=url))

    with pytest.raises(SourceError) as caught:
        source.fetch("SELECT 1", {})

    assert caught.value.kind == "unreachable"
    assert "127.0.0.1" in str(caught.value)
    assert "s3cret-pa55" not in str(caught.value)


def test_a_url_without_an_installed_driver_is_refused_when_opened() -> None:
    with pytest.raises(SourceError) as caught:
        SqlSource(SqlSourceConfig(type="sql", url="postgresql+nosuchdriver://u:pw123@h/db"))

    assert caught.value.kind == "unreachable"
    assert "pw123" not in str(caught.value)
