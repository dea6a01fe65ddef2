"""Declaring, moving, assigning, linking and noting incidents, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import events, fire, incident_config, notices

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import links
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import incident_detail
from tocsin.incidents.service import NewIncident
from tocsin.pipeline import Pipeline


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline(incident_config())


def declare(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock, **fields: object
) -> str:
    new = NewIncident(
        title=str(fields.pop("title", "Checkout failing")),
        severity=str(fields.pop("severity", "SEV-1")),
        **fields,  # type: ignore[arg-type]
    )
    with session_scope(factory) as s:
        return incidents.declare(s, pipeline, new, "ana", clock.now()).id


def test_ids_count_per_day_in_the_configured_zone(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    # START is 14:00 UTC on 2026-11-17, 09:00 in New York.
    first = declare(factory, pipeline, clock)
    second = declare(factory, pipeline, clock)
    clock.advance(timedelta(hours=10))  # 00:00 UTC on the 18th, still the 17th in New York
    third = declare(factory, pipeline, clock)
    clock.advance(timedelta(hours=5))  # 05:00 UTC, 00:00 in New York: a new day
    fourth = declare(factory, pipeline, clock)
    assert [first, second, third, fourth] == [
        "INC-2026-11-17-001",
        "INC-2026-11-17-002",
        "INC-2026-11-17-003",
        "INC-2026-11-18-001",
    ]


def test_a_retroactive_incident_takes_its_day_and_keeps_its_declared_time(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    earlier = clock.now() - timedelta(days=2)
    found = declare(factory, pipeline, clock, declared_at=earlier)
    assert found == "INC-2026-11-15-001"
    with session_scope(factory) as s:
        detail = incident_detail(s, found)
    assert detail["declared_at"] == earlier
    assert "retroactively" in detail["timeline"][0]["note"]


def test_declaring_in_the_future_or_with_a_bad_severity_or_user_changes_nothing(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    with pytest.raises(Invalid, match="declared_at"):
        declare(factory, pipeline, clock, declared_at=clock.now() + timedelta(minutes=1))
    with pytest.raises(Invalid, match="severity"):
        declare(factory, pipeline, clock, severity="SEV-9")
    with pytest.raises(Invalid, match="commander: 'zed' is not a configured user"):
        declare(factory, pipeline, clock, commander="zed")
    with session_scope(factory) as s:
        assert incidents.list_(s) == []
    assert declare(factory, pipeline, clock) == "INC-2026-11-17-001"  # no number was used


def test_declaring_tells_the_channels_and_the_commander_gets_instructions(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock, commander="bo", severity="critical")
    declared = notices(factory, "incident_declared")
    assert [(n["channel"], n["incident_id"]) for n in declared] == [("chat", found)]
    assert "Commander: bo" in declared[0]["message"]
    role = notices(factory, "incident_role")
    assert [(n["channel"], n["target"]) for n in role] == [("pager", "bo")]
    with session_scope(factory) as s:
        incident = incidents.get(s, found)
        assert incident.severity == "SEV-1"
        assert incident.next_update_due_at == clock.now() + timedelta(minutes=15)


def test_without_a_commander_it_says_so(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock)
    with session_scope(factory) as s:
        detail = incident_detail(s, found)
    assert detail["commander"] is None
    assert detail["commander_label"] == "no commander"
    assert "Commander: no commander" in notices(factory, "incident_declared")[0]["message"]


def test_statuses_move_forward_with_a_time_each_and_never_skip_resolved(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock)
    with session_scope(factory) as s, pytest.raises(Conflict, match="investigating to closed"):
        incidents.move(s, pipeline, found, "closed", "ana", clock.now())
    for status in ("identified", "mitigating", "resolved"):
        clock.advance(timedelta(minutes=5))
        with session_scope(factory) as s:
            incidents.move(s, pipeline, found, status, "ana", clock.now())
    with session_scope(factory) as s:
        incident = incidents.get(s, found)
        assert incident.identified_at is not None
        assert incident.mitigating_at is not None
        assert incident.resolved_at == clock.now()
        assert incident.next_update_due_at is None  # a resolved incident needs no updates
    with session_scope(factory) as s, pytest.raises(Conflict, match="already resolved"):
        incidents.move(s, pipeline, found, "resolved", "ana", clock.now())
    with session_scope(factory) as s:  # reopened: the clock starts again
        incidents.move(s, pipeline, found, "investigating", "ana", clock.now())
    with session_scope(factory) as s:
        incident = incidents.get(s, found)
        assert incident.resolved_at is None
        assert incident.next_update_due_at == clock.now() + timedelta(minutes=15)
    kinds = [kind for kind, _ in events(factory, found)]
    assert kinds == ["declared"] + ["status_changed"] * 4
    assert len(notices(factory, "incident_status")) == 4


def test_unknown_incidents_and_statuses_are_refused(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    with session_scope(factory) as s, pytest.raises(NotFound, match="INC-2026-01-01-001"):
        incidents.move(s, pipeline, "INC-2026-01-01-001", "resolved", "ana", clock.now())
    found = declare(factory, pipeline, clock)
    with session_scope(factory) as s, pytest.raises(Invalid, match="status: 'done'"):
        incidents.move(s, pipeline, found, "done", "ana", clock.now())


def test_roles_are_handed_over_on_the_timeline_with_instructions(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    found = declare(factory, pipeline, clock)
    with session_scope(factory) as s:
        incidents.assign(s, pipeline, found, "commander", "ana", "ana", clock.now())
        incidents.assign(s, pipeline, found, "comms", "bo", "ana", clock.now())
    with session_scope(factory) as s:
        incidents.assign(s, pipeline, found, "commander", "cy", "ana", clock.now())
    with session_scope(factory) as s, pytest.raises(Invalid, match="scribe: 'zed'"):
        incidents.assign(s, pipeline, found, "scribe", "zed", "ana", clock.now())
    with session_scope(factory) as s, pytest.raises(Invalid, match="role: 'boss'"):
        incidents.assign(s, pipeline, found, "boss", "ana", "ana", clock.now())
    with session_scope(factory) as s:
        detail = incident_detail(s, found)
    assert (detail["commander"], detail["comms_lead"]) == ("cy", "bo")
    notes = [e["note"] for e in detail["timeline"] if e["kind"] == "role_changed"]
    assert notes == [
        "ana is the commander",
        "bo is the communications lead",
        "cy takes over as commander from ana",
    ]
    told = [(n["target"], n["title"]) for n in notices(factory, "incident_role")]
    assert [target for target, _ in told] == ["ana", "bo", "cy"]
    assert "communications lead" in told[1][1]


def test_linked_alerts_changes_land_on_the_timeline(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    alert_id = fire(factory, pipeline, clock, "disk full", severity="WARNING", service="db")
    found = declare(factory, pipeline, clock)
    with session_scope(factory) as s:
        links.link(s, found, alert_id, "ana", clock.now())
    with session_scope(factory) as s, pytest.raises(Conflict, match="already linked"):
        links.link(s, found, alert_id, "ana", clock.now())
    with session_scope(factory) as s, pytest.raises(NotFound):
        links.link(s, found, 999_999, "ana", clock.now())
    with session_scope(factory) as s:
        actions.alerts.change_severity(s, pipeline, alert_id, "HIGH", clock.now())
    with session_scope(factory) as s:
        actions.alerts.acknowledge(s, pipeline, alert_id, "bo", clock.now())
    with session_scope(factory) as s:
        actions.alerts.resolve(s, pipeline, alert_id, "bo", clock.now())
    with session_scope(factory) as s:
        incidents.note(s, found, "rolled back the deploy", "bo", clock.now())
    assert events(factory, found) == [
        ("declared", "ana"),
        ("alert_linked", "ana"),
        ("alert_severity_changed", None),
        ("alert_acknowledged", "bo"),
        ("alert_resolved", "bo"),
        ("note", "bo"),
    ]
    with session_scope(factory) as s:
        detail = incident_detail(s, found)
    assert [(a["id"], a["state"]) for a in detail["alerts"]] == [(alert_id, "resolved")]


def test_merging_keeps_both_timelines_and_moves_the_alerts(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> None:
    alert_id = fire(factory, pipeline, clock, "disk full", severity="WARNING", service="db")
    first = declare(factory, pipeline, clock)
    second = declare(factory, pipeline, clock)
    with session_scope(factory) as s:
        links.link(s, second, alert_id, "ana", clock.now())
        incidents.note(s, second, "seen twice", "ana", clock.now())
    with session_scope(factory) as s:
        links.merge(s, second, first, "ana", clock.now())
    with session_scope(factory) as s, pytest.raises(Conflict):
        links.merge(s, second, first, "ana", clock.now())
    with session_scope(factory) as s:
        survivor, gone = incident_detail(s, first), incident_detail(s, second)
    assert [a["id"] for a in survivor["alerts"]] == [alert_id]
    assert gone["status"] == "resolved"
    assert gone["merged_into"] == first
    assert [e["kind"] for e in gone["timeline"]] == ["declared", "alert_linked", "note", "merged"]
    assert [e["kind"] for e in survivor["timeline"]] == ["declared", "merged"]
