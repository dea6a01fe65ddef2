"""Acknowledgements of grouped alerts on both stores: announced by the group's next flush
to the channels the group told, by whom, and the end of reminders once nobody fires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.db import session_scope

GROUPING = """
grouping: {by: [service, check], group_wait: 30s, group_interval: 2m, repeat_interval: 1h}
"""
MINUTE = timedelta(minutes=1)


@pytest.fixture
def desk(factory: sessionmaker[Session], clock: VirtualClock) -> Desk:
    return Desk(factory, clock, noise_config(GROUPING))


def fire_three(desk: Desk) -> list[int]:
    return [
        desk.fire(
            "payment_success",
            {"service": "payments", "order": str(i)},
            title="Payment processing stopped",
            severity="CRITICAL",
        )
        for i in range(3)
    ]


def ack(desk: Desk, alert_id: int, by: str) -> None:
    with session_scope(desk.factory) as session:
        actions.alerts.acknowledge(session, desk.pipeline, alert_id, by, desk.clock.now())


def test_acknowledgements_are_announced_together_by_the_next_flush(desk: Desk) -> None:
    ids = fire_three(desk)
    desk.step(MINUTE)  # the storm's summary
    ack(desk, ids[0], "ana")
    ack(desk, ids[1], "bob")
    assert len(desk.sent()) == 2  # nothing yet: the group's interval has not passed
    desk.step(MINUTE)
    assert len(desk.sent()) == 2
    desk.step(MINUTE)  # 2 min after the first flush: one notice per channel for both acks
    sent = desk.sent()
    assert [(a, c, e) for a, c, e in sent[2:]] == [
        (ids[0], "console", "fired"),
        (ids[0], "pager", "fired"),
    ]
    notice = desk.payloads()[1]
    assert notice["title"] == "Payment processing stopped (2 acknowledged)"
    assert notice["message"] == "2 acknowledged by ana, bob. 1 still open."
    assert notice["state"] == "firing"  # one member still fires: the group is not handled


def test_once_nobody_fires_the_group_says_acknowledged_and_stops_reminding(
    desk: Desk,
) -> None:
    ids = fire_three(desk)
    desk.step(MINUTE)
    for alert_id in ids:
        ack(desk, alert_id, "ana")
    desk.step(2 * MINUTE)
    desk.step(timedelta(hours=3))  # no reminder for acknowledged members
    payloads = desk.payloads()
    assert [(p["event"], p["state"], p["title"]) for p in payloads] == [
        ("fired", "firing", "Payment processing stopped (3 occurrences in 0 s)"),
        ("acknowledged", "acknowledged", "Payment processing stopped (3 acknowledged)"),
    ]
    assert payloads[1]["message"] == "3 acknowledged by ana. All 3 open acknowledged."
    # The final resolution carries the lead's id: PagerDuty resolves the incident it opened,
    # whatever order the members resolve in.
    for alert_id in reversed(ids):
        desk.resolve(alert_id)
    desk.step(2 * MINUTE)
    last = desk.payloads()[-1]
    assert (last["event"], last["title"]) == ("resolved", "Payment processing stopped (3 resolved)")
    assert {p["alert_id"] for p in desk.payloads()} == {ids[0]}


def test_an_acknowledged_alert_outside_any_group_is_still_announced_at_once(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    desk = Desk(factory, clock, noise_config())
    alert = desk.fire("orders")
    ack(desk, alert, "ana")
    assert sorted(e for _, _, e in desk.sent(alert)) == ["acknowledged"] * 2 + ["fired"] * 2
