"""Incidents over a session: declare, read, move through the lifecycle, assign roles, link
alerts, note, post status updates, merge. Every change writes its timeline event and its
notifications in the caller's transaction; nothing here commits (the boundary does).

`actions/incidents.py` is the door the CLI, the API and the worker use: it adds what touches
alerts (a missed-update page resolved by an update, an alert declaring an incident)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.config.fields import format_duration
from tocsin.db import is_postgresql
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import cadence, comms, lifecycle, timeline
from tocsin.incidents.models import (
    Incident,
    IncidentDay,
    IncidentEvent,
    IncidentUpdate,
)
from tocsin.pipeline import Pipeline

MAX_TEXT = 10_000
RETRO_LIMIT = timedelta(days=366)  # how far back a retroactive incident may begin


@dataclass(frozen=True)
class NewIncident:
    """What declaring takes; `declared_at` in the past makes a retroactive incident."""

    title: str
    severity: str
    services: list[str] = field(default_factory=list)
    commander: str | None = None
    declared_at: datetime | None = None
    customer_impact: str = ""
    public: bool = False
    group_key: str | None = None


@dataclass(frozen=True)
class NewUpdate:
    """A status update: reference 000 6.3.2 step 6's fields."""

    message: str
    status: str | None = None
    customer_impact: str | None = None
    eta: str | None = None
    public: bool | None = None


def next_id(session: Session, zone: str, at: datetime) -> str:
    """The next id of `at`'s day in `zone`: one upsert of the day's counter row, whose row
    lock orders concurrent declarations; rolled back with its transaction, so no gap."""
    day = at.astimezone(ZoneInfo(zone)).date()
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    statement = (
        insert(IncidentDay)
        .values(day=day.isoformat(), last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": IncidentDay.last + 1})
        .returning(IncidentDay.last)
    )
    number: int = session.execute(statement).scalar_one()
    return lifecycle.format_id(day, number)


def declare(
    session: Session, pipeline: Pipeline, new: NewIncident, by: str, now: datetime
) -> Incident:
    """Open an incident: its id, its `declared` event, the notice to its channels, the
    commander's instructions, and the clock of its first status update."""
    severity = lifecycle.check_severity(new.severity)
    title = text_field("title", new.title, 300)
    if new.commander is not None:
        check_user(pipeline, new.commander, "commander")
    declared_at = new.declared_at or now
    if declared_at.tzinfo is None:
        raise Invalid("declared_at: give a time zone (like 2026-11-22T10:00:00Z)")
    if declared_at > now:
        raise Invalid("declared_at: an incident cannot be declared in the future")
    if declared_at < now - RETRO_LIMIT:
        raise Invalid("declared_at: more than a year ago")
    config = pipeline.config.incidents
    incident = Incident(
        id=next_id(session, config.timezone, declared_at),
        title=title,
        severity=severity,
        status="investigating",
        public=new.public,
        customer_impact=text_field("customer_impact", new.customer_impact, MAX_TEXT, empty=True),
        services=list(dict.fromkeys(new.services)),
        group_key=new.group_key,
        declared_at=declared_at,
        declared_by=by,
        created_at=now,
        updated_at=now,
        commander=new.commander,
    )
    cadence.reset(incident, config, now)
    session.add(incident)
    session.flush()
    retro = f" (retroactively, at {declared_at.isoformat()})" if declared_at < now else ""
    timeline.append(
        session,
        incident.id,
        "declared",
        now,
        actor=by,
        note=f"{severity} {title}{retro}",
        data={
            "severity": severity,
            "commander": new.commander,
            "declared_at": declared_at.isoformat(),
        },
    )
    who = new.commander or "no commander"
    text = f"{severity}: {title}. Commander: {who}. Status: investigating."
    comms.to_channels(
        session,
        pipeline,
        incident,
        comms.notice(incident, "incident_declared", title, text),
        now,
        "declared",
    )
    if new.commander is not None:
        _instruct(session, pipeline, incident, "commander", new.commander, now, 0)
    return incident


def get(session: Session, incident_id: str, *, lock: bool = False) -> Incident:
    query = select(Incident).where(Incident.id == incident_id)
    if lock and is_postgresql(session):
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"incident {incident_id!r} does not exist")
    return found


def list_(
    session: Session,
    *,
    status: str | None = None,
    limit: int = 100,
    after: tuple[datetime, str] | None = None,
) -> Sequence[Incident]:
    """Newest declared first; `status` is one of the statuses, or `open` (not resolved or
    closed); `after` is the (declared_at, id) of the last row of the previous page."""
    query = select(Incident).order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(limit)
    if after is not None:
        at, last = after
        query = query.where(
            (Incident.declared_at < at) | ((Incident.declared_at == at) & (Incident.id < last))
        )
    if status == "open":
        query = query.where(Incident.status.in_(lifecycle.OPEN))
    elif status is not None:
        query = query.where(Incident.status == lifecycle.check_status(status))
    return session.scalars(query).all()


def move(
    session: Session,
    pipeline: Pipeline,
    incident_id: str,
    status: str,
    by: str,
    now: datetime,
    *,
    note: str | None = None,
    announce: bool = True,
) -> Incident:
    """Change the status (validated), stamping its time; Conflict if it is not allowed or the
    incident changed meanwhile. The post-mortem rules (`closed` needs it done) are
    `actions.incidents.move`'s."""
    incident = get(session, incident_id)
    current = incident.status
    lifecycle.check_move(incident_id, current, status)
    values: dict[str, object] = {"status": status, "updated_at": now}
    stamp = {
        "identified": "identified_at",
        "mitigating": "mitigating_at",
        "resolved": "resolved_at",
        "closed": "closed_at",
    }
    if status in stamp:
        values[stamp[status]] = now
    if status in lifecycle.OPEN and current == "resolved":
        values["resolved_at"] = None  # reopened: no post-mortem reminder until it resolves
        values["postmortem_due_at"] = None
    if status not in lifecycle.OPEN:
        values.update(cadence.off())
    elif current == "resolved":
        values.update(cadence.on(pipeline.config.incidents, incident.severity, now))
    moved = session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"incident {incident_id} changed meanwhile; look again")
    session.refresh(incident)
    timeline.append(
        session,
        incident_id,
        "status_changed",
        now,
        actor=by,
        note=note,
        data={"from": current, "to": status},
    )
    if announce:
        text = f"Status: {current} → {status}." + (f" {note}" if note else "")
        payload = comms.notice(incident, "incident_status", incident.title, text)
        comms.to_channels(
            session, pipeline, incident, payload, now, f"status:{status}:{now.isoformat()}"
        )
    return incident


def assign(
    session: Session,
    pipeline: Pipeline,
    incident_id: str,
    role: str,
    user: str,
    by: str,
    now: datetime,
) -> Incident:
    """Hand a role to a configured user (a handover when someone had it); they get the
    role's instructions."""
    role = lifecycle.check_role(role)
    check_user(pipeline, user, role)
    incident = get(session, incident_id, lock=True)
    if incident.status == "closed":
        raise Conflict(f"incident {incident_id} is closed")
    before: str | None = getattr(incident, role)
    if before == user:
        raise Conflict(f"{user} is already the {lifecycle.ROLE_NAMES[role]} of {incident_id}")
    setattr(incident, role, user)
    incident.updated_at = now
    count = (
        session.scalar(select(func.count()).where(IncidentEvent.incident_id == incident_id)) or 0
    )
    what = (
        f"{user} takes over as {lifecycle.ROLE_NAMES[role]} from {before}"
        if before
        else f"{user} is the {lifecycle.ROLE_NAMES[role]}"
    )
    timeline.append(
        session,
        incident_id,
        "role_changed",
        now,
        actor=by,
        note=what,
        data={"role": role, "from": before, "to": user},
    )
    _instruct(session, pipeline, incident, role, user, now, count)
    return incident


def note(session: Session, incident_id: str, text: str, by: str, now: datetime) -> None:
    incident = get(session, incident_id)
    timeline.append(
        session, incident.id, "note", now, actor=by, note=text_field("text", text, MAX_TEXT)
    )


def post_update(
    session: Session, pipeline: Pipeline, incident_id: str, new: NewUpdate, by: str, now: datetime
) -> IncidentUpdate:
    """Post a status update: moves the status if it names another one, sends it to the
    incident's channels in one action, and resets the update clock. Conflict on a closed
    incident."""
    message = text_field("message", new.message, MAX_TEXT)
    incident = get(session, incident_id)
    if incident.status == "closed":
        raise Conflict(f"incident {incident_id} is closed: it takes no more updates")
    if new.status is not None and new.status != incident.status:
        incident = move(session, pipeline, incident_id, new.status, by, now, announce=False)
    if new.customer_impact is not None:
        incident.customer_impact = text_field(
            "customer_impact", new.customer_impact, MAX_TEXT, empty=True
        )
    if new.eta is not None:
        incident.eta = text_field("eta", new.eta, 100, empty=True) or None
    if new.public is not None:
        incident.public = new.public
    incident.last_update_at = now
    incident.updated_at = now
    cadence.reset(incident, pipeline.config.incidents, now)
    row = IncidentUpdate(
        incident_id=incident.id,
        at=now,
        status=incident.status,
        message=message,
        customer_impact=incident.customer_impact,
        eta=incident.eta,
        by=by,
        public=incident.public,
    )
    session.add(row)
    session.flush()
    timeline.append(
        session,
        incident.id,
        "update_posted",
        now,
        actor=by,
        note=message,
        data={
            "update_id": row.id,
            "status": incident.status,
            "customer_impact": incident.customer_impact,
            "eta": incident.eta,
        },
    )
    lines = [f"Status: {incident.status}", message]
    if incident.customer_impact:
        lines.append(f"Customer impact: {incident.customer_impact}")
    if incident.eta:
        lines.append(f"ETA: {incident.eta}")
    payload = comms.notice(incident, "incident_update", incident.title, "\n".join(lines))
    comms.to_channels(session, pipeline, incident, payload, now, f"update:{row.id}")
    return row


def check_user(pipeline: Pipeline, user: str, role: str) -> None:
    users = pipeline.config.users
    if user not in users:
        known = ", ".join(sorted(users)) or "none are defined"
        raise Invalid(f"{role}: {user!r} is not a configured user (known: {known})")


def _instruct(
    session: Session,
    pipeline: Pipeline,
    incident: Incident,
    role: str,
    user: str,
    now: datetime,
    n: int,
) -> None:
    every = format_duration(pipeline.config.incidents.cadence(incident.severity))
    payload = comms.instructions(incident, role, every)
    comms.to_person(session, pipeline, f"user:{user}", payload, now, f"role:{role}:{user}:{n}")


def text_field(name: str, value: str, limit: int, *, empty: bool = False) -> str:
    text = value.strip()
    if "\x00" in text:
        raise Invalid(f"{name}: contains a NUL character")
    if not text and not empty:
        raise Invalid(f"{name}: must not be empty")
    if len(text) > limit:
        raise Invalid(f"{name}: longer than {limit} characters")
    return text
