"""The storefront database: the same seed gives the same rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from tests.support.pg import pg_schema

from tocsin.demo.storefront import (
    DEFAULT_START,
    NEW_YORK,
    Scenario,
    create_storefront,
    generate,
    metadata,
    scenario_events,
)

TABLES = ("orders", "fulfillment_events", "manual_queue", "system_logs")
SMALL = Scenario(history_days=3, log_history_hours=6, minutes=120)


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, in id order, per table."""
    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for name in TABLES:
                table = metadata.tables[name]
                digest = hashlib.sha256()
                for row in conn.execute(select(table).order_by(table.c.id)):
                    digest.update(repr(tuple(row)).encode())
                count = conn.execute(select(func.count()).select_from(table)).scalar_one()
                out[name] = (count, digest.hexdigest())
    finally:
        engine.dispose()
    return out


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards; fails when PostgreSQL is down."""
    with pg_schema("shop") as url:
        yield url


def test_the_same_seed_gives_the_same_database(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    create_storefront(first, DEFAULT_START, SMALL)
    create_storefront(second, DEFAULT_START, SMALL)
    assert fingerprint(first) == fingerprint(second)


def test_another_seed_gives_another_database(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    create_storefront(first, DEFAULT_START, SMALL)
    create_storefront(
        second,
        DEFAULT_START,
        Scenario(seed=SMALL.seed + 1, history_days=3, log_history_hours=6, minutes=120),
    )
    assert fingerprint(first) != fingerprint(second)


def test_creating_again_replaces_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_storefront(url, DEFAULT_START, SMALL)
    before = fingerprint(url)
    create_storefront(url, DEFAULT_START, SMALL)
    assert fingerprint(url) == before


def test_postgresql_holds_the_same_rows_as_sqlite(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_storefront(sqlite_url, DEFAULT_START, SMALL)
    create_storefront(pg_url, DEFAULT_START, SMALL)
    assert fingerprint(pg_url) == fingerprint(sqlite_url)
    create_storefront(pg_url, DEFAULT_START, SMALL)
    assert fingerprint(pg_url) == fingerprint(sqlite_url)


def test_postgresql_stores_timestamptz_and_sqlite_stores_utc_text(
    tmp_path: Path, pg_url: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_storefront(sqlite_url, DEFAULT_START, SMALL)
    create_storefront(pg_url, DEFAULT_START, SMALL)
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT created_at, typeof(created_at) FROM orders ORDER BY id LIMIT 1")
        ).one()
    engine.dispose()
    assert stored[1] == "text"
    assert datetime.strptime(stored[0], "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 (UTC text)
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        kind = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'orders' AND column_name = 'created_at'"
            )
        ).scalar_one()
        first = conn.execute(text("SELECT created_at FROM orders ORDER BY id LIMIT 1")).scalar_one()
    engine.dispose()
    assert kind == "timestamp with time zone"
    assert first == datetime.strptime(stored[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def test_the_default_scenario_is_modest_and_shaped_like_a_shop() -> None:
    rows = generate(DEFAULT_START, Scenario())
    assert sum(len(r) for r in rows.values()) < 150_000
    orders = rows["orders"]
    assert orders[0]["created_at"] >= DEFAULT_START - timedelta(days=31)
    # Most orders come in New York's waking hours, some at night.
    local_hours = [o["created_at"].astimezone(NEW_YORK).hour for o in orders]
    night = sum(1 for h in local_hours if h < 6 or h >= 23) / len(local_hours)
    assert 0.03 < night < 0.15
    logs = rows["system_logs"]
    errors = sum(1 for r in logs if r["level"] in ("error", "critical")) / len(logs)
    assert 0.01 < errors < 0.03
    # Payment stops: no order during the outage.
    begin, end = (DEFAULT_START + timedelta(minutes=m) for m in Scenario().payment_outage)
    assert not [o for o in orders if begin <= o["created_at"] < end]
    # Fulfilment costs are steady from day to day.
    daily: dict[object, int] = {}
    for event in rows["fulfillment_events"]:
        if event["status"] == "submitted" and event["created_at"] < DEFAULT_START.replace(hour=0):
            day = event["created_at"].date()
            daily[day] = daily.get(day, 0) + event["cost_cents"] + event["shipping_cost_cents"]
    average = sum(daily.values()) / len(daily)
    assert len(daily) == 30
    assert all(0.8 * average < cost < 1.25 * average for cost in daily.values())


def test_the_default_start_is_nine_on_a_tuesday_morning_in_new_york() -> None:
    local = DEFAULT_START.astimezone(NEW_YORK)
    assert (local.strftime("%A"), local.hour, local.minute) == ("Tuesday", 9, 0)


def test_the_narrative_is_in_order_and_within_the_scenario() -> None:
    scenario = Scenario()
    events = scenario_events(scenario)
    offsets = [offset for offset, _ in events]
    assert offsets == sorted(offsets)
    assert offsets[0] == timedelta(0)
    assert offsets[-1] <= scenario.total
    assert all(isinstance(line, str) and line for _, line in events)
