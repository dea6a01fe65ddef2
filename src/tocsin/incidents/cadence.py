"""The status-update cadence of open incidents, as due rows on the incident itself.

An open incident has `next_update_due_at` (`incidents.update_every`, per severity). Its due
column `cadence_due_at` walks a small state machine:

    waiting  --due-->  reminded (the comms lead, else the commander, else the service's on
                       call is reminded; due again after `incidents.grace`)
    reminded --due-->  paged    (the timeline records the missed update; the door pages the
                       commander: `actions/incidents.py`)

Posting an update puts it back to `waiting` with a new due time; resolving turns it off.
The worker claims due incidents with `FOR UPDATE SKIP LOCKED` and moves each by a
compare-and-set on (`cadence_state`, `cadence_due_at`), checking the row count, in the
transaction that writes the reminder's outbox rows: a worker killed at any instant leaves
either nothing done (the row is due again) or everything done (the state has moved), so each
reminder is written exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.config.fields import format_duration
from tocsin.config.incidents import IncidentsConfig
from tocsin.incidents import comms, timeline
from tocsin.incidents.lifecycle import OPEN
from tocsin.incidents.models import Incident
from tocsin.pipeline import Pipeline

Page = Callable[[Session, Incident, datetime], None]


def on(config: IncidentsConfig, severity: str, now: datetime) -> dict[str, Any]:
    """The columns of a clock started (again) at `now`."""
    due = now + config.cadence(severity)
    return {"next_update_due_at": due, "cadence_state": "waiting", "cadence_due_at": due}


def off() -> dict[str, Any]:
    return {"next_update_due_at": None, "cadence_state": None, "cadence_due_at": None}


def reset(incident: Incident, config: IncidentsConfig, now: datetime) -> None:
    values = on(config, incident.severity, now) if incident.status in OPEN else off()
    for key, value in values.items():
        setattr(incident, key, value)


def claim(
    session: Session, now: datetime, limit: int = 100
) -> list[tuple[Incident, str, datetime]]:
    """Take due incidents and move their cadence one state on, each by compare-and-set;
    returns (incident, the state it was in, the due time it had) for those this caller won."""
    query = (
        select(
            Incident.id,
            Incident.cadence_state,
            Incident.cadence_due_at,
            Incident.next_update_due_at,
        )
        .where(Incident.cadence_due_at <= now)
        .order_by(Incident.cadence_due_at, Incident.id)
        .limit(limit)
    )
    won: list[tuple[Incident, str, datetime]] = []
    for row in session.execute(claims.locking(session, query)).all():
        state, due = row.cadence_state, row.cadence_due_at
        if state == "waiting":
            values: dict[str, Any] = {"cadence_state": "reminded"}
            values["cadence_due_at"] = None  # set below, from the configuration's grace
        elif state == "reminded":
            values = {"cadence_state": "paged", "cadence_due_at": None}
        else:  # a state with a due time it should not have: switch it off
            values = {"cadence_due_at": None}
        moved = claims.take(
            session,
            Incident,
            Incident.id == row.id,
            expect=[Incident.cadence_state == state, Incident.cadence_due_at == due],
            values=values,
        )
        if not moved or state not in ("waiting", "reminded"):
            continue
        incident = session.get(Incident, row.id, populate_existing=True)
        if incident is not None:
            won.append((incident, state, due))
    return won


def remind_due(
    session: Session, pipeline: Pipeline, now: datetime, page: Page, limit: int = 100
) -> int:
    """One batch of due cadence work as of `now`: reminders, then pages for missed updates.
    Returns how many incidents it moved."""
    config = pipeline.config.incidents
    claimed = claim(session, now, limit)
    for incident, state, due in claimed:
        key = due.isoformat()
        if state == "waiting":
            incident.cadence_due_at = max(due, now) + config.grace
            _remind(session, pipeline, incident, now, key)
        else:
            missed = incident.next_update_due_at or due
            timeline.append(
                session,
                incident.id,
                "update_missed",
                now,
                note=f"no status update since it was due at {missed:%H:%M:%S} UTC; paging "
                f"the commander ({incident.commander or 'no commander'})",
                data={"due_at": missed.isoformat()},
            )
            page(session, incident, now)
    return len(claimed)


def _remind(
    session: Session, pipeline: Pipeline, incident: Incident, now: datetime, key: str
) -> None:
    target = comms.responder(pipeline, incident)
    grace = format_duration(pipeline.config.incidents.grace)
    text = (
        f"A status update on {incident.id} is due (`tocsin incident update {incident.id} "
        f"--status S --message M`). Without one in {grace} the commander is paged."
    )
    payload = comms.notice(incident, "incident_reminder", "Status update due", text)
    sent = (
        comms.to_person(session, pipeline, target, payload, now, f"reminder:{key}") if target else 0
    )
    timeline.append(
        session,
        incident.id,
        "reminder_sent",
        now,
        note=f"reminded {target}"
        if sent
        else f"nobody could be reminded ({target or 'no one on call'})",
        data={"to": target, "deliveries": sent},
    )
