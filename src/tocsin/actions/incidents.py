"""The door for incidents: every change of one goes through here, so what it does to alerts
(an alert declaring or joining one, a missed update paging the commander, an update
resolving that page) happens in one place. The incident's own rows are
`tocsin.incidents.service`'s; a function here never commits."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.actions import alerts as alert_actions
from tocsin.alerts.service import NewAlert
from tocsin.errors import Conflict
from tocsin.fingerprint import fingerprint
from tocsin.incidents import cadence, comms, followups, lifecycle, links, postmortem
from tocsin.incidents import service as incidents
from tocsin.incidents.auto import ORIGIN
from tocsin.incidents.models import Incident, IncidentUpdate
from tocsin.incidents.service import NewIncident, NewUpdate
from tocsin.pipeline import Pipeline

__all__ = [
    "NewIncident",
    "NewUpdate",
    "declare",
    "follow_up_due",
    "move",
    "post_update",
    "remind_due",
]


def declare(
    session: Session,
    pipeline: Pipeline,
    new: NewIncident,
    by: str,
    now: datetime,
    *,
    alert_ids: Sequence[int] = (),
) -> Incident:
    """Declare an incident and link the alerts that caused it."""
    incident = incidents.declare(session, pipeline, new, by, now)
    for alert_id in alert_ids:
        links.link(session, incident.id, alert_id, by, now)
    return incident


def move(
    session: Session,
    pipeline: Pipeline,
    incident_id: str,
    status: str,
    by: str,
    now: datetime,
    *,
    note: str | None = None,
) -> Incident:
    """Change the status (`incidents.move`). `closed` needs the post-mortem done (Conflict
    otherwise); `resolved` writes the post-mortem draft."""
    _may_close(session, incident_id, status)
    incident = incidents.move(session, pipeline, incident_id, status, by, now, note=note)
    if status == "resolved":
        postmortem.draft(session, incident_id, now, pipeline.config)
    return incident


def _may_close(session: Session, incident_id: str, status: str | None) -> None:
    if status != "closed":
        return
    incident = incidents.get(session, incident_id)
    if incident.status == "resolved" and incident.postmortem_done_at is None:
        raise Conflict(
            f"incident {incident_id} cannot be closed before its post-mortem is done "
            f"(`tocsin incident postmortem {incident_id} --done`)"
        )


def post_update(
    session: Session, pipeline: Pipeline, incident_id: str, new: NewUpdate, by: str, now: datetime
) -> IncidentUpdate:
    """Post a status update (`incidents.post_update`); a missed-update page still open is
    resolved by it."""
    _may_close(session, incident_id, new.status)
    before = incidents.get(session, incident_id).status
    row = incidents.post_update(session, pipeline, incident_id, new, by, now)
    incident = incidents.get(session, incident_id)
    if incident.status == "resolved" and before != "resolved":
        postmortem.draft(session, incident_id, now, pipeline.config)
    if incident.page_alert_id is not None:
        page, incident.page_alert_id = incident.page_alert_id, None
        with contextlib.suppress(Conflict):  # resolved already (by hand)
            alert_actions.resolve(
                session, pipeline, page, by, now, f"update posted on {incident_id}"
            )
    return row


def follow_up_due(session: Session, pipeline: Pipeline, now: datetime, limit: int = 100) -> int:
    """The worker's step: post-mortems overdue, action items overdue."""
    return followups.remind_due(session, pipeline, now, limit)


def remind_due(session: Session, pipeline: Pipeline, now: datetime, limit: int = 100) -> int:
    """The worker's step: one batch of due update reminders and missed-update pages."""
    return cadence.remind_due(
        session, pipeline, now, lambda s, i, t: _page(s, pipeline, i, t), limit
    )


def _page(session: Session, pipeline: Pipeline, incident: Incident, now: datetime) -> None:
    """Page for a missed update: an alert of the incident's severity goes through the normal
    routes and escalation (labels `incident`, `service`, `commander` to route on), and the
    commander — or the service's on call when nobody commands — is told directly."""
    service = incident.services[0] if incident.services else "tocsin"
    commander = incident.commander or ""
    new = NewAlert(
        fingerprint=fingerprint("tocsin:incident", {"incident": incident.id}),
        origin=ORIGIN,
        labels={"incident": incident.id, "service": service, "commander": commander},
        severity=lifecycle.ALERT_SEVERITY[incident.severity],
        title=f"{incident.id} missed its status update",
        message=f"{incident.title}: no status update since {incident.next_update_due_at} UTC. "
        f"Commander: {commander or 'no commander'}.",
    )
    try:
        alert, _ = alert_actions.fire(session, pipeline, new, now)
        incident.page_alert_id = alert.id
    except Conflict:
        pass  # a page for this incident is open already
    target = (
        f"user:{incident.commander}" if incident.commander else comms.oncall_for(pipeline, incident)
    )
    if target is not None:
        text = f"{incident.id} missed its status update: you are paged. Post one to stop this."
        payload = comms.notice(incident, "incident_reminder", "Status update missed", text)
        key = f"missed:{(incident.next_update_due_at or now).isoformat()}"
        comms.to_person(session, pipeline, target, payload, now, key)
