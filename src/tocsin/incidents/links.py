"""Alerts linked to an incident (by hand, by an `incident: auto` route, by a merge) and
merging two incidents, whose timelines both stay whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.errors import Conflict, Invalid
from tocsin.incidents import cadence, timeline
from tocsin.incidents.models import Incident, IncidentAlert
from tocsin.incidents.service import get


def link(
    session: Session, incident_id: str, alert_id: int, by: str | None, now: datetime
) -> IncidentAlert:
    """Link an alert; its later changes land on the timeline. Conflict if already linked."""
    incident = get(session, incident_id)
    alert = alerts.get(session, alert_id)
    if session.get(IncidentAlert, (incident.id, alert.id)) is not None:
        raise Conflict(f"alert {alert_id} is already linked to {incident_id}")
    row = IncidentAlert(incident_id=incident.id, alert_id=alert.id, linked_at=now, linked_by=by)
    session.add(row)
    timeline.append(
        session,
        incident.id,
        "alert_linked",
        now,
        actor=by,
        note=alert.title,
        data={"alert_id": alert.id, "severity": alert.severity, "state": alert.state},
    )
    return row


def linked_alerts(session: Session, incident_id: str) -> list[int]:
    return list(
        session.scalars(
            select(IncidentAlert.alert_id)
            .where(IncidentAlert.incident_id == incident_id)
            .order_by(IncidentAlert.linked_at, IncidentAlert.alert_id)
        )
    )


def merge(session: Session, source_id: str, into_id: str, by: str, now: datetime) -> Incident:
    """Fold `source_id` into `into_id`: its alerts are linked to the survivor, both
    timelines stay whole (each records the merge) and the source is resolved."""
    if source_id == into_id:
        raise Invalid("into: an incident cannot be merged into itself")
    source, into = get(session, source_id), get(session, into_id)
    if source.merged_into is not None or source.status == "closed":
        raise Conflict(f"incident {source_id} is already merged or closed")
    for alert_id in linked_alerts(session, source.id):
        if session.get(IncidentAlert, (into.id, alert_id)) is None:
            session.add(
                IncidentAlert(incident_id=into.id, alert_id=alert_id, linked_at=now, linked_by=by)
            )
    source.merged_into = into.id
    if source.status != "resolved":
        source.status, source.resolved_at = "resolved", now
    for key, value in cadence.off().items():
        setattr(source, key, value)
    source.updated_at = into.updated_at = now
    timeline.append(
        session,
        source.id,
        "merged",
        now,
        actor=by,
        note=f"merged into {into.id}",
        data={"into": into.id},
    )
    timeline.append(
        session,
        into.id,
        "merged",
        now,
        actor=by,
        note=f"{source.id} merged in",
        data={"from": source.id},
    )
    return into
