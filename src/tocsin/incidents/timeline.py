"""An incident's timeline: append-only typed events, each with its actor and time, and what
a linked alert's change writes there (`actions/alerts.py` calls `alerts_changed`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.service import Change
from tocsin.incidents.models import IncidentAlert, IncidentEvent

# Every kind an event may have. `runbook_step` is written by the runbooks' steps (next issue).
KINDS = (
    "declared",
    "status_changed",
    "role_changed",
    "note",
    "alert_linked",
    "alert_fired",
    "alert_acknowledged",
    "alert_resolved",
    "alert_severity_changed",
    "update_posted",
    "reminder_sent",
    "update_missed",
    "merged",
    "severity_changed",
    "runbook_step",
    "postmortem_written",
)
_ALERT_KINDS = {
    "fired": "alert_fired",
    "acknowledged": "alert_acknowledged",
    "resolved": "alert_resolved",
    "severity_changed": "alert_severity_changed",
}


def append(
    session: Session,
    incident_id: str,
    kind: str,
    at: datetime,
    *,
    actor: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Write one event; nothing ever updates or deletes one."""
    if kind not in KINDS:
        raise ValueError(f"unknown incident event kind {kind!r}")
    event = IncidentEvent(
        incident_id=incident_id, at=at, kind=kind, actor=actor, note=note, data=data or {}
    )
    session.add(event)
    return event


def incidents_of(session: Session, alert_ids: Sequence[int]) -> dict[int, list[str]]:
    """The incidents each alert is linked to."""
    found: dict[int, list[str]] = {}
    if not alert_ids:
        return found
    rows = session.execute(
        select(IncidentAlert.alert_id, IncidentAlert.incident_id).where(
            IncidentAlert.alert_id.in_(set(alert_ids))
        )
    )
    for alert_id, incident_id in rows:
        found.setdefault(alert_id, []).append(incident_id)
    return found


def alerts_changed(
    session: Session, changes: Sequence[Change], linked: dict[int, list[str]]
) -> int:
    """Put each linked alert's fire, acknowledgement, resolution or severity change on the
    timelines of its incidents (`linked`: from `incidents_of`); returns how many events
    were written."""
    wanted = [(a, e) for a, e in changes if e.kind in _ALERT_KINDS]
    written = 0
    for alert, event in wanted:
        for incident_id in linked.get(alert.id, []):
            append(
                session,
                incident_id,
                _ALERT_KINDS[event.kind],
                event.at,
                actor=event.actor,
                note=alert.title if event.note is None else f"{alert.title}: {event.note}",
                data={"alert_id": alert.id, "severity": alert.severity, "state": alert.state},
            )
            written += 1
    return written
