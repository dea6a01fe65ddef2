"""What incidents tell people: notices to the incident's channels (declared, status changed,
update posted) and to persons (a role's instructions, an update reminder), written as outbox
rows in the caller's transaction like every notification. Each row's id derives from what
caused it, so writing the same notice twice fails rather than sending it twice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.incidents.lifecycle import ALERT_SEVERITY, ROLE_NAMES
from tocsin.incidents.models import Incident
from tocsin.outbox import service as outbox
from tocsin.pipeline import Pipeline

_NAMESPACE = uuid.UUID("5b0c7a52-4f8e-4d36-9b1e-2a6f6f0c1d15")

INSTRUCTIONS = {
    "commander": "You command {id}: decide, delegate, keep the status current. Post an update "
    "at least every {every} (`tocsin incident update {id} --status S --message M`).",
    "comms_lead": "You are the communications lead of {id}: post a status update at least "
    "every {every} to the incident's channels and the status page "
    "(`tocsin incident update {id} …`); you are reminded when one is due.",
    "scribe": "You are the scribe of {id}: record decisions and findings on its timeline "
    "(`tocsin incident note {id} TEXT`).",
}


def notice(incident: Incident, kind: str, title: str, message: str) -> dict[str, Any]:
    """A notice's payload (`tocsin.notify.text.NOTICE_EVENTS` lists the kinds)."""
    return {
        "version": 1,
        "alert_id": None,
        "event": kind,
        "incident_id": incident.id,
        "incident_status": incident.status,
        "severity": ALERT_SEVERITY.get(incident.severity, "INFO"),
        "title": f"[{incident.id}] {title}",
        "message": message,
    }


def to_channels(
    session: Session,
    pipeline: Pipeline,
    incident: Incident,
    payload: dict[str, Any],
    now: datetime,
    key: str,
) -> int:
    """Send `payload` to the incident's chat channels (`incidents.channels`); `key` names
    what caused it, unique per incident."""
    deliveries = pipeline.router.deliveries(pipeline.config.incidents.channels)
    return _write(session, deliveries, payload, now, f"{incident.id}:{key}")


def to_person(
    session: Session,
    pipeline: Pipeline,
    target: str,
    payload: dict[str, Any],
    now: datetime,
    key: str,
) -> int:
    """Send `payload` to a person (`user:NAME`, or whoever `schedule:NAME` has on call) on
    the channels that reach them (`incidents.via`, default every one that can). Returns how
    many deliveries were written: 0 when nobody could be reached."""
    via = pipeline.config.incidents.via
    deliveries = pipeline.escalator.people(session, target, via, now)
    return _write(session, deliveries, payload, now, f"{payload['incident_id']}:{key}")


def responder(pipeline: Pipeline, incident: Incident) -> str | None:
    """Whom a reminder to update reaches: the communications lead, else the commander, else
    whoever is on call for the incident's (first) service (`incidents.oncall`)."""
    for user in (incident.comms_lead, incident.commander):
        if user is not None:
            return f"user:{user}"
    return oncall_for(pipeline, incident)


def oncall_for(pipeline: Pipeline, incident: Incident) -> str | None:
    oncall = pipeline.config.incidents.oncall
    for service in incident.services:
        if service in oncall:
            return oncall[service]
    return oncall.get("*")


def instructions(incident: Incident, role: str, every: str) -> dict[str, Any]:
    text = INSTRUCTIONS[role].format(id=incident.id, every=every)
    return notice(incident, "incident_role", f"You are the {ROLE_NAMES[role]}", text)


def _write(
    session: Session,
    deliveries: Sequence[outbox.Delivery],
    payload: dict[str, Any],
    now: datetime,
    key: str,
) -> int:
    for channel, target in dict.fromkeys(deliveries):
        row_id = str(uuid.uuid5(_NAMESPACE, f"{key}:{channel}:{target or ''}"))
        outbox.enqueue_one(session, (channel, target), payload, now, row_id=row_id)
    return len(deliveries)
