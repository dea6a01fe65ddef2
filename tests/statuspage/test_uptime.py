"""Uptime per day and month: outage minutes over the day's minutes, maintenance excluded,
from spans (pure) and from the store's alert and maintenance history (both stores)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.status import fire, resolve, status_config, window

from tocsin.clock import VirtualClock
from tocsin.db import read_scope
from tocsin.statuspage.history import per_component
from tocsin.statuspage.uptime import DAYS, minus, union, uptime
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

NOW = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC) + timedelta(hours=hour)


def test_spans_merge_and_subtract() -> None:
    merged = union([(at(1, 2), at(1, 4)), (at(1, 1), at(1, 3)), (at(1, 5), at(1, 6))])
    assert merged == [(at(1, 1), at(1, 4)), (at(1, 5), at(1, 6))]
    assert minus(merged, [(at(1, 2), at(1, 5))]) == [(at(1, 1), at(1, 2)), (at(1, 5), at(1, 6))]


def test_a_day_loses_its_outage_minutes_but_not_those_under_maintenance() -> None:
    found = uptime(
        outages=[(at(10, 1), at(10, 3)), (at(10, 2), at(10, 4))],  # 3 h, overlapping
        maintenance=[(at(10, 3), at(10, 9))],  # 6 h, one of them an outage hour
        now=NOW,
    )
    assert len(found.days) == DAYS
    assert found.days[-1].date == date(2026, 11, 17)
    day = next(d for d in found.days if d.date == date(2026, 11, 10))
    assert day.ratio == pytest.approx((18 - 2) / 18)  # 2 h of outage over 24 h − 6 h
    assert day.percent == "88.88%"  # rounded down: 88.888…
    assert day.grade == "down"
    assert found.days[-1].observed_s == 12 * 3600  # today counts up to now
    november = next(m for m in found.months if m.name == "2026-11")
    assert november.ratio == pytest.approx(1 - 2 / ((16 * 24 + 12) - 6))


def test_a_minute_of_outage_never_reads_as_100_percent() -> None:
    found = uptime([(at(10, 1), at(10, 1) + timedelta(seconds=1))], [], NOW)
    assert next(d for d in found.days if d.date == date(2026, 11, 10)).percent == "99.99%"


def test_a_day_all_maintenance_has_no_figure() -> None:
    found = uptime([], [(at(10, 0), at(11, 0))], NOW)
    day = next(d for d in found.days if d.date == date(2026, 11, 10))
    assert day.ratio is None
    assert day.grade == "none"
    assert found.days[-1].percent == "100%"


def test_the_store_gives_each_component_its_history(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = status_config().status
    start = clock.now()
    down = fire(factory, start, "CRITICAL", service="payments")  # checkout: an outage
    fire(factory, start, "WARNING", service="web")  # degraded: not an outage
    window(factory, start, ["payments"], timedelta(hours=1), timedelta(hours=1))
    clock.advance(timedelta(hours=3))
    resolve(factory, down, clock.now())
    clock.advance(timedelta(hours=3))
    with read_scope(factory) as session:
        found = per_component(session, config, clock.now())
    today = found["checkout"].days[-1]
    assert today.outage_s == 2 * 3600  # 3 h down, one of them in maintenance
    assert today.maintenance_s == 3600
    assert found["website"].days[-1].outage_s == 0
    with TestClient(create_app(Settings(status_config(), factory, clock))) as http:
        page = http.get("/status").text
        assert "Uptime of Checkout per day" in page
        assert "from the store's alert history" in page
        rows = list(csv.DictReader(io.StringIO(http.get("/status/uptime.csv").text)))
    assert [(r["component"], r["kind"], r["minutes"]) for r in rows] == [
        ("checkout", "outage", "180.0"),
        ("checkout", "maintenance", "60.0"),
    ]
    assert rows[0]["ref"] == f"alert {down}"
