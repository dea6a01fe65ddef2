"""How an incident is shown, the same to the CLI, the API, the console and the status page.

`incident_summary(incident)`: the incident's own fields — a listing's row.
`incident_detail(session, id)`: the summary plus its linked alerts, its posted updates
(oldest first; `public` says which the status page shows) and its whole timeline.
Times are aware UTC datetimes; roles nobody holds are None ("no commander" is the caller's
wording, from `commander_label`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.incidents import links, service
from tocsin.incidents.models import Incident, IncidentAction, IncidentEvent, IncidentUpdate


def commander_label(incident: Incident) -> str:
    return incident.commander or "no commander"


def incident_summary(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "public": incident.public,
        "customer_impact": incident.customer_impact,
        "eta": incident.eta,
        "services": list(incident.services),
        "commander": incident.commander,
        "commander_label": commander_label(incident),
        "comms_lead": incident.comms_lead,
        "scribe": incident.scribe,
        "declared_at": incident.declared_at,
        "declared_by": incident.declared_by,
        "identified_at": incident.identified_at,
        "mitigating_at": incident.mitigating_at,
        "resolved_at": incident.resolved_at,
        "closed_at": incident.closed_at,
        "updated_at": incident.updated_at,
        "last_update_at": incident.last_update_at,
        "next_update_due_at": incident.next_update_due_at,
        "merged_into": incident.merged_into,
        "postmortem_written_at": incident.postmortem_written_at,
        "postmortem_done_at": incident.postmortem_done_at,
    }


def update_out(update: IncidentUpdate) -> dict[str, Any]:
    """A posted status update, as the incident's channels and the status page show it."""
    return {
        "id": update.id,
        "at": update.at,
        "status": update.status,
        "message": update.message,
        "customer_impact": update.customer_impact,
        "eta": update.eta,
        "by": update.by,
        "public": update.public,
    }


def incident_detail(session: Session, incident_id: str) -> dict[str, Any]:
    incident = service.get(session, incident_id)
    alert_ids = links.linked_alerts(session, incident.id)
    alerts = (
        {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))}
        if alert_ids
        else {}
    )
    updates = session.scalars(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident.id)
        .order_by(IncidentUpdate.at, IncidentUpdate.id)
    )
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return {
        **incident_summary(incident),
        "alerts": [
            {
                "id": a.id,
                "title": a.title,
                "severity": a.severity,
                "state": a.state,
                "started_at": a.started_at,
            }
            for a in (alerts[i] for i in alert_ids if i in alerts)
        ],
        "updates": [update_out(u) for u in updates],
        "timeline": [
            {"at": e.at, "kind": e.kind, "actor": e.actor, "note": e.note, "data": e.data}
            for e in events
        ],
    }


def action_out(action: IncidentAction) -> dict[str, Any]:
    """An action item, as `tocsin incident actions` and the API list them."""
    return {
        "id": action.id,
        "incident_id": action.incident_id,
        "text": action.text,
        "owner": action.owner,
        "due_at": action.due_at,
        "done_at": action.done_at,
        "done_by": action.done_by,
        "reminded_at": action.reminded_at,
        "verify": action.verify,
        "verify_result": action.verify_result,
    }
