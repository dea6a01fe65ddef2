"""Post-mortems: a draft on resolution with an exact timeline and the response figures, a
reminder 48 h later if not done, `closed` only once done; action items reminded once
overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import events, incident_config, notices

from tocsin import actions
from tocsin.alerts.service import NewAlert
from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import Conflict, Invalid
from tocsin.fingerprint import fingerprint
from tocsin.incidents import followups, links, postmortem
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import incident_detail
from tocsin.incidents.service import NewIncident, NewUpdate
from tocsin.pipeline import Pipeline

MINUTE = timedelta(minutes=1)


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline(incident_config())


def check_alert(factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock) -> int:
    """A check's alert whose check was over its threshold for 3 minutes before it fired."""
    mark = fingerprint("orders", {})
    with session_scope(factory) as s:
        for minutes, severity in ((5, None), (3, "CRITICAL"), (2, "CRITICAL"), (1, "CRITICAL")):
            at = clock.now() - minutes * MINUTE
            s.add(
                Evaluation(
                    check_name="orders", slot_at=at, started_at=at, finished_at=at,
                    duration_ms=1.0, status="ok",
                    results=[{"fingerprint": mark, "raw_severity": severity}],
                )
            )  # fmt: skip
        alert, _ = actions.alerts.fire(
            s,
            pipeline,
            NewAlert(
                fingerprint=mark, origin="check", check_name="orders",
                labels={"service": "shop"}, severity="HIGH", title="No orders", message="",
            ),
            clock.now(),
        )  # fmt: skip
        return alert.id


def test_resolving_writes_the_draft_and_closing_needs_it_done(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    alert_id = check_alert(factory, pipeline, clock)
    with session_scope(factory) as s:
        new = NewIncident(title="No orders", severity="SEV-2", services=["shop"], commander="ana")
        found = actions.incidents.declare(
            s, pipeline, new, "ana", clock.now(), alert_ids=[alert_id]
        )
        found_id = found.id
    clock.advance(2 * MINUTE)
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, pipeline, alert_id, "ana", clock.now())
    clock.advance(10 * MINUTE)
    with session_scope(factory) as s:
        update = NewUpdate(
            message="Webhook restored", status="mitigating", customer_impact="No checkout"
        )
        actions.incidents.post_update(s, pipeline, found_id, update, "ana", clock.now())
    clock.advance(8 * MINUTE)
    with session_scope(factory) as s:
        actions.incidents.move(s, pipeline, found_id, "resolved", "ana", clock.now())
    with session_scope(factory) as s:
        text = incidents.get(s, found_id).postmortem or ""
    for section in (
        "## Overview", "## What Happened", "## Contributing Factors", "## Resolution",
        "## Impact", "## Responders", "## Timeline", "## How'd We Do", "## Action Items",
        "## Preventive Measures", "## Messaging",
    ):  # fmt: skip
        assert section in text
    # The impact began with the check's first run over its threshold, 3 minutes before the alert.
    assert "- time to detect: 3m" in text
    assert "- time to acknowledge: 5m" in text
    assert "- time to mitigate: 15m" in text
    assert "- time to resolve: 23m" in text
    assert "| 2026-11-17 14:12:00 | update_posted | ana | Webhook restored |" in text
    assert "- commander: ana" in text
    assert "Customer impact: No checkout." in text
    with session_scope(factory) as s, pytest.raises(Conflict, match="post-mortem is done"):
        actions.incidents.move(s, pipeline, found_id, "closed", "ana", clock.now())
    with session_scope(factory) as s:
        postmortem.mark_done(s, found_id, "ana", clock.now())
    with session_scope(factory) as s:
        actions.incidents.move(s, pipeline, found_id, "closed", "ana", clock.now())
        assert incidents.get(s, found_id).status == "closed"


def test_a_post_mortem_not_done_in_48_hours_is_reminded_once(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        new = NewIncident(title="No orders", severity="SEV-2", commander="bo")
        found = actions.incidents.declare(s, pipeline, new, "ana", clock.now()).id
        actions.incidents.move(s, pipeline, found, "resolved", "ana", clock.now())
    clock.advance(timedelta(hours=47))
    with session_scope(factory) as s:
        assert actions.incidents.follow_up_due(s, pipeline, clock.now()) == 0
    clock.advance(timedelta(hours=1))
    for expected in (1, 0):
        with session_scope(factory) as s:
            assert actions.incidents.follow_up_due(s, pipeline, clock.now()) == expected
    told = [(n["channel"], n["target"]) for n in notices(factory, "incident_reminder")]
    assert told == [("chat", None), ("pager", "bo")]
    with session_scope(factory) as s:
        postmortem.mark_done(s, found, "bo", clock.now())
    with session_scope(factory) as s, pytest.raises(Conflict, match="already done"):
        postmortem.mark_done(s, found, "bo", clock.now())


def test_action_items_are_listed_and_reminded_once_when_overdue(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        found = incidents.declare(
            s, pipeline, NewIncident(title="x", severity="SEV-3"), "ana", clock.now()
        ).id
        first = followups.add_action(
            s,
            pipeline,
            found,
            "Alert on webhook 5xx",
            "bo",
            clock.now() + timedelta(days=2),
            "ana",
            clock.now(),
        ).id
        followups.add_action(
            s,
            pipeline,
            found,
            "Rotate secrets quarterly",
            "cy",
            clock.now() + timedelta(days=1),
            "ana",
            clock.now(),
        )
    with session_scope(factory) as s, pytest.raises(Invalid, match="owner: 'zed'"):
        followups.add_action(s, pipeline, found, "x", "zed", clock.now(), "ana", clock.now())
    clock.advance(timedelta(days=1, minutes=1))
    with session_scope(factory) as s:
        followups.complete_action(s, first, "bo", clock.now())
    clock.advance(timedelta(days=2))
    for expected in (1, 0):
        with session_scope(factory) as s:
            assert actions.incidents.follow_up_due(s, pipeline, clock.now()) == expected
    assert [n["target"] for n in notices(factory, "incident_reminder")] == ["cy"]
    with session_scope(factory) as s:
        listed = [(a.owner, a.done_at is None) for a in followups.list_actions(s)]
        still = [a.owner for a in followups.list_actions(s, open_only=True)]
    assert listed == [("cy", True), ("bo", False)]
    assert still == ["cy"]
    assert ("reminder_sent", None) in events(factory, found)


def test_a_merged_incident_has_both_timelines_in_its_detail(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        one = incidents.declare(
            s, pipeline, NewIncident(title="a", severity="SEV-3"), "ana", clock.now()
        ).id
        two = incidents.declare(
            s, pipeline, NewIncident(title="b", severity="SEV-3"), "ana", clock.now()
        ).id
        links.merge(s, two, one, "ana", clock.now())
        assert incident_detail(s, two)["merged_into"] == one


def test_a_reopened_incident_is_not_reminded_of_its_post_mortem(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        new = NewIncident(title="No orders", severity="SEV-2", commander="bo")
        found = actions.incidents.declare(s, pipeline, new, "ana", clock.now()).id
        actions.incidents.move(s, pipeline, found, "resolved", "ana", clock.now())
    with session_scope(factory) as s:
        actions.incidents.move(s, pipeline, found, "investigating", "ana", clock.now())
    clock.advance(timedelta(hours=49))
    with session_scope(factory) as s:
        assert actions.incidents.follow_up_due(s, pipeline, clock.now()) == 0
