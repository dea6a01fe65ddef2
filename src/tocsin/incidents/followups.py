"""After an incident: action items (owner, due date, done), and the reminders that follow
it up — the post-mortem not done 48 h after resolution, an action item overdue. Both are
due columns (`incident.postmortem_due_at`, `incident_action.remind_at`) claimed with
`FOR UPDATE SKIP LOCKED` and cleared by a compare-and-set checked by row count, in the
transaction that writes the reminder: each goes out once, whatever is killed when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.errors import Conflict, NotFound
from tocsin.incidents import comms, timeline
from tocsin.incidents.models import Incident, IncidentAction
from tocsin.incidents.service import MAX_TEXT, check_user, get, text_field
from tocsin.incidents.verify import Verify, checked
from tocsin.pipeline import Pipeline


def add_action(
    session: Session,
    pipeline: Pipeline,
    incident_id: str,
    text: str,
    owner: str,
    due_at: datetime,
    by: str,
    now: datetime,
    verify: Verify | None = None,
) -> IncidentAction:
    """An action item owned by a configured user, due at `due_at` (reminded once overdue);
    with `verify`, a check that closes it once it passes (`tocsin.incidents.verify`)."""
    body = text_field("text", text, MAX_TEXT)
    check_user(pipeline, owner, "owner")
    if verify is not None:
        checked(pipeline.config, verify)
    incident = get(session, incident_id)
    row = IncidentAction(
        incident_id=incident.id,
        text=body,
        owner=owner,
        due_at=due_at,
        created_at=now,
        created_by=by,
        remind_at=due_at,
        verify=verify.spec() if verify is not None else None,
        verify_at=now if verify is not None else None,
    )
    session.add(row)
    session.flush()
    timeline.append(
        session, incident.id, "note", now, actor=by,
        note=f"action item #{row.id} for {owner}, due {due_at:%Y-%m-%d %H:%M} UTC: {body}",
    )  # fmt: skip
    return row


def complete_action(session: Session, action_id: int, by: str, now: datetime) -> IncidentAction:
    row = session.get(IncidentAction, action_id)
    if row is None:
        raise NotFound(f"action item {action_id} does not exist")
    done = session.execute(
        update(IncidentAction)
        .where(IncidentAction.id == action_id, IncidentAction.done_at.is_(None))
        .values(done_at=now, done_by=by, remind_at=None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"action item {action_id} is already done")
    session.refresh(row)
    return row


def list_actions(
    session: Session, *, open_only: bool = False, incident_id: str | None = None
) -> Sequence[IncidentAction]:
    """Action items across incidents, soonest due first."""
    query = select(IncidentAction).order_by(IncidentAction.due_at, IncidentAction.id)
    if open_only:
        query = query.where(IncidentAction.done_at.is_(None))
    if incident_id is not None:
        query = query.where(IncidentAction.incident_id == incident_id)
    return session.scalars(query.limit(1000)).all()


def remind_due(session: Session, pipeline: Pipeline, now: datetime, limit: int = 100) -> int:
    """One batch of due follow-ups: post-mortems not done in time, overdue action items."""
    return _postmortems(session, pipeline, now, limit) + _actions(session, pipeline, now, limit)


def _postmortems(session: Session, pipeline: Pipeline, now: datetime, limit: int) -> int:
    query = (
        select(Incident.id, Incident.postmortem_due_at)
        .where(Incident.postmortem_due_at <= now)
        .order_by(Incident.postmortem_due_at)
        .limit(limit)
    )
    done = 0
    for incident_id, due in session.execute(claims.locking(session, query)).all():
        if due is None or not claims.take(
            session,
            Incident,
            Incident.id == incident_id,
            expect=[Incident.postmortem_due_at == due],
            values={"postmortem_due_at": None},
        ):
            continue
        incident = get(session, incident_id)
        session.refresh(incident)
        target = (
            f"user:{incident.commander}"
            if incident.commander
            else comms.oncall_for(pipeline, incident)
        )
        text = (
            f"The post-mortem of {incident.id} is not done, 48 h after resolution "
            f"(reference 000 6.3.2 step 7). Review it, then `tocsin incident postmortem "
            f"{incident.id} --done`."
        )
        payload = comms.notice(incident, "incident_reminder", "Post-mortem overdue", text)
        comms.to_channels(
            session, pipeline, incident, payload, now, f"postmortem:{due.isoformat()}"
        )
        if target is not None:
            comms.to_person(
                session, pipeline, target, payload, now, f"postmortem:{due.isoformat()}"
            )
        timeline.append(
            session, incident.id, "reminder_sent", now, note="post-mortem overdue",
            data={"to": target, "postmortem_due_at": due.isoformat()},
        )  # fmt: skip
        done += 1
    return done


def _actions(session: Session, pipeline: Pipeline, now: datetime, limit: int) -> int:
    query = (
        select(IncidentAction.id, IncidentAction.remind_at)
        .where(IncidentAction.remind_at <= now)
        .order_by(IncidentAction.remind_at)
        .limit(limit)
    )
    done = 0
    for action_id, due in session.execute(claims.locking(session, query)).all():
        if not claims.take(
            session,
            IncidentAction,
            IncidentAction.id == action_id,
            expect=[IncidentAction.remind_at == due],
            values={"remind_at": None, "reminded_at": now},
        ):
            continue
        row = session.get(IncidentAction, action_id, populate_existing=True)
        if row is None or row.done_at is not None:
            continue
        incident = get(session, row.incident_id)
        when = f"{row.due_at:%Y-%m-%d %H:%M} UTC"
        text = f"Action item #{row.id} of {incident.id} was due {when}: {row.text}"
        payload = comms.notice(incident, "incident_reminder", "Action item overdue", text)
        comms.to_person(session, pipeline, f"user:{row.owner}", payload, now, f"action:{row.id}")
        timeline.append(
            session, incident.id, "reminder_sent", now,
            note=f"action item #{row.id} overdue: reminded {row.owner}",
            data={"action_id": row.id, "to": row.owner},
        )  # fmt: skip
        done += 1
    return done
