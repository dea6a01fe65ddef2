"""What an alert's change does to incidents (`actions.alerts._after` calls `alerts_changed`):
linked alerts' changes go on the timelines; a fired alert whose route says `incident: auto`
declares an incident, or joins the open incident of its group key."""

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
    timeline.alerts_changed(session, changes, now)
    for alert, event in changes:
        if event.kind != "fired" or alert.origin == ORIGIN:
            continue
        labels = match_labels(alert.labels, alert.severity, alert.check_name, alert.origin)
        if not any(route.incident for route in pipeline.router.route(labels)):
            continue
        _auto(session, pipeline, alert.id, alert.title, alert.severity, labels, now)


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
