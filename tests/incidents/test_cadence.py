"""The status-update cadence: a reminder when an update is due, a page after the grace,
each written once however many workers claim; an update resets the clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import events, incident_config, notices

from tocsin import actions
from tocsin.alerts.models import Alert
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import Conflict
from tocsin.incidents import service as incidents
from tocsin.incidents.service import NewIncident, NewUpdate
from tocsin.pipeline import Pipeline

MINUTE = timedelta(minutes=1)


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline(incident_config())


def declare(
    factory: sessionmaker[Session],
    pipeline: Pipeline,
    clock: VirtualClock,
    commander: str | None = None,
    comms_lead: str | None = None,
) -> str:
    with session_scope(factory) as s:
        new = NewIncident(
            title="Checkout failing", severity="SEV-1", services=["payments"], commander=commander
        )
        found = incidents.declare(s, pipeline, new, "ana", clock.now()).id
        if comms_lead is not None:
            incidents.assign(s, pipeline, found, "comms_lead", comms_lead, "ana", clock.now())
        return found


def remind(factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock) -> int:
    with session_scope(factory) as s:
        return actions.incidents.remind_due(s, pipeline, clock.now())


def pages(factory: sessionmaker[Session]) -> list[Alert]:
    with session_scope(factory) as s:
        found = list(s.scalars(select(Alert).where(Alert.origin == "incident")))
        s.expunge_all()
    return found


def test_the_comms_lead_is_reminded_then_the_commander_paged_and_an_update_ends_it(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock, commander="ana", comms_lead="bo")
    clock.advance(14 * MINUTE)
    assert remind(factory, pipeline, clock) == 0
    clock.advance(MINUTE)
    assert remind(factory, pipeline, clock) == 1
    assert remind(factory, pipeline, clock) == 0  # once
    reminders = notices(factory, "incident_reminder")
    assert [(n["channel"], n["target"]) for n in reminders] == [("pager", "bo")]
    clock.advance(4 * MINUTE)
    assert remind(factory, pipeline, clock) == 0  # the grace is 5 minutes
    clock.advance(MINUTE)
    assert remind(factory, pipeline, clock) == 1
    assert remind(factory, pipeline, clock) == 0
    [page] = pages(factory)
    assert (page.severity, page.state, page.labels["incident"]) == ("CRITICAL", "firing", found)
    assert page.labels["commander"] == "ana"
    missed = notices(factory, "incident_reminder")[1:]
    assert [(n["target"], n["title"]) for n in missed] == [
        ("ana", f"[{found}] Status update missed")
    ]
    kinds = [kind for kind, _ in events(factory, found)]
    assert kinds[-2:] == ["reminder_sent", "update_missed"]

    with session_scope(factory) as s:
        update = NewUpdate(message="Webhooks restored; backfilling", status="mitigating")
        actions.incidents.post_update(s, pipeline, found, update, "bo", clock.now())
    [page] = pages(factory)
    assert page.state == "resolved"
    with session_scope(factory) as s:
        incident = incidents.get(s, found)
        assert incident.status == "mitigating"
        assert incident.next_update_due_at == clock.now() + 15 * MINUTE
    assert [n["event"] for n in notices(factory, "incident_update")] == ["incident_update"]
    clock.advance(15 * MINUTE)
    assert remind(factory, pipeline, clock) == 1  # the next cycle, from the update


def test_an_update_resets_the_clock(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock, commander="ana")
    clock.advance(10 * MINUTE)
    with session_scope(factory) as s:
        actions.incidents.post_update(
            s, pipeline, found, NewUpdate(message="Looking"), "ana", clock.now()
        )
    clock.advance(5 * MINUTE)
    assert remind(factory, pipeline, clock) == 0
    clock.advance(10 * MINUTE)
    assert remind(factory, pipeline, clock) == 1
    assert [n["target"] for n in notices(factory, "incident_reminder")] == ["ana"]


def test_without_a_commander_the_services_on_call_is_reminded(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock)
    clock.advance(15 * MINUTE)
    remind(factory, pipeline, clock)
    assert [n["target"] for n in notices(factory, "incident_reminder")] == ["cy"]
    notes = [e for e in events(factory, found) if e[0] == "reminder_sent"]
    assert notes == [("reminder_sent", None)]


def test_resolved_and_closed_incidents_are_not_reminded_and_take_no_updates_once_closed(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock, commander="ana")
    with session_scope(factory) as s:
        incidents.move(s, pipeline, found, "resolved", "ana", clock.now())
    clock.advance(30 * MINUTE)
    assert remind(factory, pipeline, clock) == 0
    with session_scope(factory) as s:
        incidents.move(s, pipeline, found, "closed", "ana", clock.now())
    with session_scope(factory) as s, pytest.raises(Conflict, match="closed"):
        actions.incidents.post_update(
            s, pipeline, found, NewUpdate(message="late"), "ana", clock.now()
        )
    with session_scope(factory) as s:
        assert incidents.get(s, found).last_update_at is None


def test_two_workers_remind_each_incident_once(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    made = [declare(factory, pipeline, clock, commander="ana") for _ in range(30)]
    clock.advance(15 * MINUTE)
    start = threading.Barrier(2)
    done: list[int] = []

    def work() -> None:
        start.wait()
        while True:
            with session_scope(factory) as s:
                n = actions.incidents.remind_due(s, pipeline, clock.now(), limit=4)
            if n == 0:
                return
            done.append(n)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(done) == 30
    reminded = [n["incident_id"] for n in notices(factory, "incident_reminder")]
    assert sorted(reminded) == sorted(made)
