"""Due steps fired a batch at a time: each once, none for an alert no longer firing, none
that someone else settled first."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions
from tocsin.alerts import service as alerts
from tocsin.alerts.models import AlertEvent
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.escalation import service as escalations
from tocsin.escalation.models import EscalationStep
from tocsin.fingerprint import fingerprint
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline

CONFIG = """
channels:
  log: {type: console}
routes: {notify: [], escalation: page}
escalation_policies:
  page:
    steps:
      - {after: 0m, notify: [log]}
      - {after: 5m, notify: [log]}
      - {after: 10m, notify: [log]}
"""


def raise_alerts(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> list[int]:
    ids = []
    with session_scope(factory) as s:
        for name in ("a", "b", "c"):
            alert, _ = actions.alerts.fire(
                s,
                pipeline,
                actions.alerts.NewAlert(
                    fingerprint=fingerprint(name, {}),
                    origin="event",
                    labels={"service": name},
                    severity="CRITICAL",
                    title=f"{name} down",
                    message="",
                ),
                clock.now(),
            )
            ids.append(alert.id)
    return ids


def test_a_batch_fires_every_due_step_once_and_cancels_those_of_alerts_no_longer_firing(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(parse(CONFIG, "t.yaml", env={})[0])
    first, second, third = raise_alerts(factory, pipeline, clock)
    with session_scope(factory) as s:
        # Acknowledged behind the pipeline's back (its escalation was not stopped): the
        # batch must still see that the alert is no longer firing.
        alerts.acknowledge(s, second, "ana", clock.now())
    clock.advance(timedelta(minutes=11))  # steps 2 and 3 of every alert are due
    with session_scope(factory) as s:
        assert pipeline.escalator.fire_due(s, clock.now()) == 4
    with session_scope(factory) as s:
        assert pipeline.escalator.fire_due(s, clock.now()) == 0
        states = Counter((step.alert_id, step.state) for step in s.scalars(select(EscalationStep)))
        entries = Counter(
            (e.alert_id, e.data["step"])
            for e in s.scalars(select(AlertEvent).where(AlertEvent.kind == "escalation_step"))
        )
        notified = Counter(n.alert_id for n in s.scalars(select(Notification)))
    assert states == {
        (first, "fired"): 3,
        (third, "fired"): 3,
        (second, "fired"): 1,
        (second, "cancelled"): 2,
    }
    assert set(entries.values()) == {1}
    assert notified[first] == notified[third] == 3
    assert notified[second] == 1


def test_settling_a_batch_moves_only_the_steps_still_pending(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(parse(CONFIG, "t.yaml", env={})[0])
    raise_alerts(factory, pipeline, clock)
    clock.advance(timedelta(minutes=6))
    with session_scope(factory) as s:
        due = escalations.due(s, clock.now())
        ids = [step.id for step in due]
        taken = escalations.settle_many(s, ids[:1], "fired", clock.now())
        assert taken == {ids[0]}
        assert escalations.settle_many(s, ids, "fired", clock.now()) == set(ids[1:])
        assert escalations.settle_many(s, ids, "cancelled", clock.now()) == set()
        assert escalations.settle_many(s, [], "fired", clock.now()) == set()
