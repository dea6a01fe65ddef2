"""SLOs: the error budget over a rolling window and a calendar month from a check's alerts,
a latency SLO from its values, the status names of §6.4.3, the SRE workbook's burn-rate
alerts opened and resolved through the one door, and bad configuration named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.slos import outage, samples, slo_config

from tocsin import actions
from tocsin.actions.slos import alert_fingerprint, check_burn
from tocsin.alerts.models import Alert
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import read_scope, session_scope
from tocsin.errors import ConfigError
from tocsin.periodic import JobSlot
from tocsin.pipeline import Pipeline
from tocsin.reports import budget
from tocsin.reports.slos import burn_down, read
from tocsin.worker.loop import Worker

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_a_calendar_month_begins_at_midnight_in_its_zone() -> None:
    start, end = budget.window("month", "America/New_York", NOW)
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # EDT until Nov 1 02:00
    assert end == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # EST
    assert budget.window(timedelta(days=30), "UTC", NOW) == (NOW - timedelta(days=30), NOW)


def test_overlapping_outages_count_once() -> None:
    t = NOW
    joined = budget.merged(
        [(t, t + 10 * MIN), (t + 5 * MIN, t + 20 * MIN), (t + 30 * MIN, t + 40 * MIN)]
    )
    assert joined == [(t, t + 20 * MIN), (t + 30 * MIN, t + 40 * MIN)]
    assert budget.covered(joined, t + 15 * MIN, t + 35 * MIN) == 10 * 60


@pytest.mark.parametrize(
    ("remaining", "status"),
    [
        (0.9, "Within Budget"),
        (0.25, "Warning"),
        (0.1, "Warning"),
        (0.0, "Budget Exceeded"),
        (-0.5, "Budget Exceeded"),
    ],
)
def test_the_status_names_follow_the_budget_left(remaining: float, status: str) -> None:
    assert budget.status(remaining, 25.0) == status


def test_the_budget_left_is_read_from_the_checks_alerts(factory: sessionmaker[Session]) -> None:
    config = slo_config()
    pipeline = Pipeline(config)
    # 30 days at 99.9 %: 43.2 minutes of budget. Two overlapping outages (20 min in all),
    # a WARNING (not counted), another check's outage (not counted), one before the window.
    outage(factory, pipeline, NOW - timedelta(days=2), NOW - timedelta(days=2) + 15 * MIN)
    outage(
        factory,
        pipeline,
        NOW - timedelta(days=2) + 5 * MIN,
        NOW - timedelta(days=2) + 20 * MIN,
        n=1,
    )
    outage(
        factory,
        pipeline,
        NOW - timedelta(days=1),
        NOW - timedelta(days=1) + 60 * MIN,
        severity="WARNING",
        n=2,
    )
    outage(
        factory,
        pipeline,
        NOW - timedelta(days=1),
        NOW - timedelta(days=1) + 60 * MIN,
        check="other",
        n=3,
    )
    outage(factory, pipeline, NOW - timedelta(days=40), NOW - timedelta(days=39), n=4)
    with read_scope(factory) as s:
        reading = read(s, "checkout-availability", config.slos["checkout-availability"], NOW)
    assert reading.bad == 20 * 60
    assert reading.budget_minutes == pytest.approx(43.2)
    assert reading.remaining_minutes == pytest.approx(23.2)
    assert reading.budget_remaining == pytest.approx(23.2 / 43.2)
    assert reading.status == "Within Budget"
    assert reading.attained == pytest.approx(1 - 20 / (30 * 24 * 60))
    assert reading.tiers == {"page": False, "ticket": False}
    # The calendar month's SLO counts every alert labelled service=shop, the other check's too.
    with read_scope(factory) as s:
        month = read(s, "checkout-month", config.slos["checkout-month"], NOW)
    assert month.window == "month"
    assert month.bad == 80 * 60
    assert month.budget_minutes == pytest.approx(0.005 * 30 * 24 * 60 + 0.005 * 60)  # 30 d + 1 h
    assert month.status == "Within Budget"
    with read_scope(factory) as s:
        points = burn_down(s, config.slos["checkout-availability"], NOW)
    assert points[0][1] == 100.0
    assert points[-1][1] == pytest.approx(100 * 23.2 / 43.2)
    assert [p[1] for p in points] == sorted((p[1] for p in points), reverse=True)


def test_a_latency_slo_counts_values_over_the_threshold(factory: sessionmaker[Session]) -> None:
    config = slo_config()
    slo = config.slos["checkout-latency"]
    # 200 values in the last 7 days, 3 over 500 ms; 1 % may be bad, so 2 of them: overspent.
    values = [(NOW - 50 * h * MIN, 120.0) for h in range(1, 198)]  # every 50 min
    values += [(NOW - timedelta(minutes=m), 900.0) for m in (10, 20, 30)]
    values += [(NOW - timedelta(days=8), 5000.0)]  # before the window
    samples(factory, values)
    with read_scope(factory) as s:
        reading = read(s, "checkout-latency", slo, NOW)
    assert (reading.bad, reading.total) == (3, 200)
    assert reading.budget_remaining == pytest.approx(1 - 3 / 2)
    assert reading.status == "Budget Exceeded"
    page = next(b for b in reading.burns if b.long == "1h")
    assert page.long_rate == pytest.approx((3 / 4) / 0.01)  # the last hour: 3 bad of 4


def test_burn_rate_alerts_open_and_resolve_through_the_one_door(
    factory: sessionmaker[Session],
) -> None:
    config = slo_config()
    pipeline = Pipeline(config)
    slos = config.slos
    down_at = NOW - 70 * MIN
    alert_id = outage(factory, pipeline, down_at, None)

    def tick(at: datetime) -> dict[str, str]:
        with session_scope(factory) as s:
            check_burn(s, pipeline, slos, at)
        with read_scope(factory) as s:
            rows = s.execute(
                select(Alert.labels, Alert.severity, Alert.state).where(Alert.origin == "slo")
            ).all()
        return {labels["burn"]: f"{severity} {state}" for labels, severity, state in rows}

    assert tick(NOW) == {"page": "CRITICAL firing", "ticket": "WARNING firing"}
    assert tick(NOW + 10 * MIN)["page"] == "CRITICAL firing"  # still burning: no second alert
    with session_scope(factory) as s:
        actions.alerts.resolve(s, pipeline, alert_id, None, NOW + 10 * MIN)
    # 20 minutes on: the 5m window is clean, but 6h/30m still burns 6x and keeps the page.
    assert tick(NOW + 20 * MIN)["page"] == "CRITICAL firing"
    # 45 minutes on: the last 30 minutes are clean, the page resolves; the ticket holds (2h).
    assert tick(NOW + 45 * MIN) == {"page": "CRITICAL resolved", "ticket": "WARNING firing"}
    # 3 hours on, 3d/6h still burns (80 bad minutes in the last 6 hours); 7 hours on, not.
    assert tick(NOW + 3 * 60 * MIN)["ticket"] == "WARNING firing"
    assert tick(NOW + 7 * 60 * MIN) == {"page": "CRITICAL resolved", "ticket": "WARNING resolved"}
    with read_scope(factory) as s:
        labels, message = s.execute(
            select(Alert.labels, Alert.message).where(
                Alert.fingerprint == alert_fingerprint("checkout-availability", "page")
            )
        ).one()
    assert labels == {"service": "shop", "slo": "checkout-availability", "burn": "page"}
    assert "1h/5m at 14.4x" in message


def test_an_slo_of_a_missing_check_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        slo_config(
            """
  broken:
    service: shop
    sli: {type: latency, check: nowhere, threshold: 5}
    objective: 99
  promised-too-much:
    service: shop
    sli: {type: availability}
    objective: 100
"""
        )
    text = str(raised.value)
    assert "check 'nowhere' does not exist (known: checkout)" in text
    assert "slos.broken.sli.check" in text
    assert "slos.promised-too-much.objective: Input should be less than 100" in text


def test_a_rolling_window_is_bounded() -> None:
    with pytest.raises(ConfigError, match="between 1h and 400d"):
        parse(
            "slos: {x: {service: s, sli: {type: availability}, objective: 99, window: 5m}}",
            "t.yaml",
            env={},
        )


def test_the_worker_raises_burn_alerts_once_a_minute(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = slo_config()
    outage(factory, Pipeline(config), NOW - 70 * MIN, None)
    clock.set(NOW)
    worker = Worker(config, factory, clock, worker_id="w1", threads=False)
    worker.start()
    worker.tick(send=False)
    clock.advance(timedelta(seconds=20))
    worker.tick(send=False)  # the same minute: the step writes nothing
    clock.advance(timedelta(minutes=1))
    worker.tick(send=False)
    with read_scope(factory) as s:
        burns = s.execute(select(Alert.labels).where(Alert.origin == "slo")).scalars().all()
        slots = s.scalars(select(JobSlot.slot_at).where(JobSlot.job == "slo-burn")).all()
    assert sorted(labels["burn"] for labels in burns) == ["page", "ticket"]
    assert len(slots) == 2  # one per minute ticked, not one per tick
