"""Grouping on the virtual clock: a storm becomes one summary per group per flush, flushes
are rows claimed once, resolutions and reminders go through the group."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config

from tocsin.clock import VirtualClock
from tocsin.config import GroupingConfig
from tocsin.db import session_scope
from tocsin.noise import flush_due_groups
from tocsin.noise.grouping import _flush
from tocsin.noise.models import AlertGroup
from tocsin.outbox.models import Notification

GROUPING = """
grouping: {by: [service, check], group_wait: 30s, group_interval: 2m, repeat_interval: 1h}
"""
SECOND = timedelta(seconds=1)


@pytest.fixture
def desk(factory: sessionmaker[Session], clock: VirtualClock) -> Desk:
    return Desk(factory, clock, noise_config(GROUPING))


def storm(
    desk: Desk, clock: VirtualClock, count: int, every: timedelta, **labels: str
) -> list[int]:
    ids = []
    for i in range(count):
        ids.append(
            desk.fire(
                "payment_success",
                {"order": str(i), **labels},
                title="Payment processing stopped",
                severity="CRITICAL",
                message=f"order {i} failed",
            )
        )
        clock.advance(every)
    return ids


def test_a_storm_becomes_one_summary_per_group(desk: Desk, clock: VirtualClock) -> None:
    # 7 occurrences over 94 s in one group: the group waits 30 s after the first, so the
    # first flush has the first 3 and the rest wait for group_interval (2 min) after it.
    start = clock.now()
    offsets = (0, 10, 20, 40, 60, 80, 94)
    for second in range(0, 300, 2):
        clock.set(start + timedelta(seconds=second))
        if second in offsets:
            desk.fire(
                "payment_success",
                {"service": "payments", "order": str(second)},
                title="Payment processing stopped",
                severity="CRITICAL",
            )
        if second == 94:
            desk.fire("error_rate", {"service": "storefront"})
        desk.step()
        if second < 30:
            assert desk.sent() == []  # nothing before group_wait
    assert desk.titles_at() == [
        (start + 30 * SECOND, "Payment processing stopped (3 occurrences in 20 s)"),
        (start + 124 * SECOND, "error_rate is failing"),
        (start + 150 * SECOND, "Payment processing stopped (4 occurrences in 54 s)"),
    ]


def test_the_summary_carries_first_latest_count_and_three_samples(
    desk: Desk, clock: VirtualClock
) -> None:
    start = clock.now()
    ids = storm(desk, clock, 7, 15 * SECOND, service="payments")
    desk.step(timedelta(minutes=5))
    (payload,) = desk.payloads()
    group = payload["group"]
    assert isinstance(group, dict)
    assert payload["title"] == "Payment processing stopped (7 occurrences in 90 s)"
    assert payload["message"] == "This alert fired 7 times in 90 seconds. 7 still open."
    assert payload["event"] == "fired"
    assert payload["alert_id"] == ids[0]
    assert group["count"] == 7
    assert group["first_occurrence"] == start.isoformat()
    assert group["latest_occurrence"] == (start + 90 * SECOND).isoformat()
    assert [s["alert_id"] for s in group["samples"]] == ids[:3]
    assert group["labels"] == {"service": "payments", "check": "payment_success"}


def test_at_most_one_notification_per_group_interval(desk: Desk, clock: VirtualClock) -> None:
    # One alert every 10 s for 10 minutes: 30 s wait, then one flush per 2 minutes.
    start = clock.now()
    for i in range(60):
        storm(desk, clock, 1, 10 * SECOND, service="payments", batch=str(i))
        desk.step()
    for _ in range(20):
        desk.step(10 * SECOND)
    assert [at - start for at, _ in desk.titles_at()] == [
        timedelta(seconds=s) for s in (30, 150, 270, 390, 510, 630)
    ]
    flushes = [p["group"]["flush"] for p in desk.payloads()]  # type: ignore[index]
    assert flushes == [1, 2, 3, 4, 5, 6]
    assert sum(p["group"]["count"] for p in desk.payloads()) == 60  # type: ignore[index]


def test_resolutions_are_reported_by_the_group_and_nobody_is_reminded(
    desk: Desk, clock: VirtualClock
) -> None:
    ids = storm(desk, clock, 3, SECOND, service="payments")
    desk.step(timedelta(minutes=1))
    for alert_id in ids:
        desk.resolve(alert_id)
    desk.step(timedelta(minutes=2))
    desk.step(timedelta(hours=2))
    payloads = desk.payloads()
    assert [(p["event"], p["title"]) for p in payloads] == [
        ("fired", "Payment processing stopped (3 occurrences in 2 s)"),
        ("resolved", "Payment processing stopped (3 resolved)"),
    ]
    assert payloads[0]["alert_id"] == payloads[1]["alert_id"] == ids[0]  # one incident


def test_members_still_firing_are_reminded_every_repeat_interval(
    desk: Desk, clock: VirtualClock
) -> None:
    ids = storm(desk, clock, 2, SECOND, service="payments")
    desk.step(timedelta(minutes=1))
    desk.ack(ids[1])
    desk.step(timedelta(minutes=2))  # the acknowledgement goes out with the next flush
    desk.step(timedelta(minutes=59))
    desk.step(timedelta(minutes=1))  # an hour after the last notice, not the first
    titles = [p["title"] for p in desk.payloads()]
    assert titles == [
        "Payment processing stopped (2 occurrences in 1 s)",
        "Payment processing stopped (1 acknowledged)",
        "Still firing: Payment processing stopped (1 open)",
    ]


def test_a_due_group_is_flushed_exactly_once(
    desk: Desk, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    storm(desk, clock, 5, SECOND, service="payments")
    clock.advance(timedelta(minutes=1))
    with session_scope(factory) as reader:  # a second worker read the due group...
        stale = reader.scalars(select(AlertGroup)).all()
    with session_scope(factory) as first:  # ...but the first one flushed it meanwhile
        assert flush_due_groups(first, clock.now()) == 1
    with session_scope(factory) as second:
        assert [_flush(second, g, clock.now(), GroupingConfig()) for g in stale] == [0]
    with session_scope(factory) as s:
        assert flush_due_groups(s, clock.now()) == 0
        rows = s.scalars(select(Notification)).all()
    assert len(rows) == 2  # one per channel


def test_a_silenced_member_never_reaches_the_group(
    desk: Desk, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    from tocsin.noise import silences

    now = clock.now()
    with session_scope(factory) as s:
        silences.create_silence(
            s, ['order="1"'], now, now + timedelta(hours=1), "ana", "x", now=now
        )
    storm(desk, clock, 3, SECOND, service="payments")
    desk.step(timedelta(minutes=1))
    (payload,) = desk.payloads()
    assert payload["title"] == "Payment processing stopped (2 occurrences in 2 s)"
