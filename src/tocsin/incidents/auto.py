"""What an alert's change does to incidents (`actions.alerts._after` calls `alerts_changed`):
linked alerts' changes go on the timelines; a fired alert whose route says `incident: auto`
declares an incident, or joins the open incident of its group key; the notifications the
change wrote name the incidents its alert is linked to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.service import Change
from tocsin.incidents import lifecycle, links, timeline
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.incidents.service import NewIncident
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline
from tocsin.routing import match_labels

ORIGIN = "incident"  # the origin of a missed-update page: it never declares an incident
ACTOR = "tocsin"


def alerts_changed(
    session: Session, pipeline: Pipeline, changes: Sequence[Change], now: datetime
) -> None:
    """`actions.alerts._after`'s hook: linked alerts' changes go on their incidents'
    timelines; a fired alert whose route says `incident: auto` declares an incident, or
    joins the open one of its group key."""
    linked = timeline.incidents_of(session, [a.id for a, _ in changes])
    timeline.alerts_changed(session, changes, linked)
    auto = False
    for alert, event in changes:
        if event.kind != "fired" or alert.origin == ORIGIN:
            continue
        labels = match_labels(alert.labels, alert.severity, alert.check_name, alert.origin)
        if not any(route.incident for route in pipeline.router.route(labels)):
            continue
        _auto(session, pipeline, alert.id, alert.title, alert.severity, labels, now)
        auto = True
    if auto:
        linked = timeline.incidents_of(session, [a.id for a, _ in changes])
    name_incidents(session, changes, linked)


def name_incidents(
    session: Session, changes: Sequence[Change], linked: dict[int, list[str]]
) -> int:
    """Make the notifications these changes just wrote name the incidents their alerts are
    linked to: `incidents` in the payload, and a line at the end of the message every
    channel shows. Returns how many rows it changed (none when no alert is linked)."""
    events = [e.id for a, e in changes if a.id in linked and e.id is not None]
    if not events:
        return 0
    rows = session.scalars(select(Notification).where(Notification.event_id.in_(events))).all()
    for row in rows:
        names = linked.get(row.alert_id or 0, [])
        if not names or "incidents" in row.payload:
            continue
        message = str(row.payload.get("message") or "")
        line = f"Incident: {', '.join(names)}"
        row.payload = {
            **row.payload,
            "incidents": names,
            "message": f"{message}\n{line}" if message else line,
        }
    return len(rows)


def _auto(
    session: Session,
    pipeline: Pipeline,
    alert_id: int,
    title: str,
    severity: str,
    labels: dict[str, str],
    now: datetime,
) -> None:
    by = ["service", "check"] if pipeline.config.grouping is None else pipeline.config.grouping.by
    key = ",".join(f"{name}={labels.get(name, '')}" for name in by)
    open_one = session.scalar(
        select(Incident.id)
        .where(Incident.group_key == key, Incident.status.in_(lifecycle.OPEN))
        .order_by(Incident.declared_at.desc())
        .limit(1)
    )
    if open_one is not None:
        links.link(session, open_one, alert_id, ACTOR, now)
        return
    service = labels.get("service")
    new = NewIncident(
        title=title,
        severity=lifecycle.FROM_ALERT.get(severity, "SEV-4"),
        services=[service] if service else [],
        group_key=key,
    )
    incident = incidents.declare(session, pipeline, new, ACTOR, now)
    links.link(session, incident.id, alert_id, ACTOR, now)
