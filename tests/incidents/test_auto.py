"""`incident: auto` on a route: a fired alert declares an incident or joins the open one
of its group key."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import fire, incident_config

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.incidents import links
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import incident_detail
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline


def test_a_critical_payments_alert_declares_one_and_the_next_joins_it(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(incident_config())
    first = fire(factory, pipeline, clock, "no orders in 10 minutes")
    fire(factory, pipeline, clock, "disk full", severity="WARNING")  # its route says nothing
    clock.advance(timedelta(minutes=2))
    second = fire(factory, pipeline, clock, "webhooks failing")
    with session_scope(factory) as s:
        [incident] = incidents.list_(s)
        detail = incident_detail(s, incident.id)
    assert detail["id"] == "INC-2026-11-17-001"
    assert (detail["title"], detail["severity"], detail["services"]) == (
        "no orders in 10 minutes",
        "SEV-1",
        ["payments"],
    )
    assert [a["id"] for a in detail["alerts"]] == [first, second]
    assert detail["declared_by"] == "tocsin"


def test_once_it_is_resolved_a_new_alert_declares_a_new_one(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(incident_config())
    fire(factory, pipeline, clock, "no orders in 10 minutes")
    with session_scope(factory) as s:
        incidents.move(s, pipeline, "INC-2026-11-17-001", "resolved", "ana", clock.now())
    fire(factory, pipeline, clock, "webhooks failing")
    with session_scope(factory) as s:
        assert [i.id for i in incidents.list_(s, status="open")] == ["INC-2026-11-17-002"]


def test_an_alert_notification_names_its_incident(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(incident_config())
    declared = fire(factory, pipeline, clock, "no orders in 10 minutes")
    other = fire(factory, pipeline, clock, "disk full", severity="WARNING", service="db")
    with session_scope(factory) as s:
        links.link(s, "INC-2026-11-17-001", other, "ana", clock.now())
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, pipeline, other, "ana", clock.now())
    with session_scope(factory) as s:
        sent = [
            (n.alert_id, n.payload["event"], n.payload.get("incidents"), n.payload["message"])
            for n in s.scalars(
                select(Notification)
                .where(Notification.alert_id.is_not(None))
                .order_by(Notification.created_at, Notification.id)
            )
        ]
    assert sent == [
        (declared, "fired", ["INC-2026-11-17-001"], "Incident: INC-2026-11-17-001"),
        (other, "fired", None, ""),  # linked afterwards: its first notice could not say so
        (other, "acknowledged", ["INC-2026-11-17-001"], "Incident: INC-2026-11-17-001"),
    ]
