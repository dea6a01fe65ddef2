"""The post-mortem: a Markdown draft written from the incident's rows when it resolves
(PagerDuty's sections plus reference 000 6.3.2 step 7's list), its figures (time to detect,
acknowledge, mitigate, resolve), and being marked done, which `closed` needs.

The figures count from the impact's start: the first evaluation of a linked alert's check
over its threshold (Tocsin ran the check, so it knows), else the first linked alert's
start, else the declared time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.checks.models import Evaluation
from tocsin.config import TocsinConfig
from tocsin.config.fields import format_duration
from tocsin.errors import Conflict
from tocsin.incidents import impact, links, timeline
from tocsin.incidents.lifecycle import ROLE_NAMES
from tocsin.incidents.models import Incident, IncidentAction, IncidentEvent, IncidentUpdate
from tocsin.incidents.service import get

REVIEW_WITHIN = timedelta(hours=48)  # reference 000 6.3.2 step 7
NOT_COMPUTED = "Orders affected and revenue at risk: _not computed (no impact query configured)_."
LOOK_BACK = timedelta(days=1)  # how far before an alert its check's run over threshold is sought


@dataclass(frozen=True)
class Figures:
    started_at: datetime  # the impact's start
    detected_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None

    def since_start(self, at: datetime | None) -> timedelta | None:
        return None if at is None else max(at - self.started_at, timedelta(0))


def figures(session: Session, incident: Incident) -> Figures:
    alerts = [session.get(Alert, i) for i in links.linked_alerts(session, incident.id)]
    found = [a for a in alerts if a is not None]
    starts = [incident.declared_at, *(a.started_at for a in found)]
    starts += [t for a in found if (t := _first_over_threshold(session, a)) is not None]
    detected = min((a.started_at for a in found), default=incident.declared_at)
    acks = [a.acknowledged_at for a in found if a.acknowledged_at is not None]
    return Figures(
        started_at=min(starts),
        detected_at=detected,
        acknowledged_at=min(acks) if acks else None,
        mitigated_at=incident.mitigating_at or incident.resolved_at,
        resolved_at=incident.resolved_at,
    )


def _first_over_threshold(session: Session, alert: Alert) -> datetime | None:
    """The start of the unbroken run of the check's evaluations, up to the alert's start,
    in which the alert's row was over a threshold."""
    if alert.check_name is None:
        return None
    runs = session.scalars(
        select(Evaluation)
        .where(
            Evaluation.check_name == alert.check_name,
            Evaluation.started_at <= alert.started_at,
            Evaluation.started_at >= alert.started_at - LOOK_BACK,
        )
        .order_by(Evaluation.started_at.desc())
        .limit(2000)
    )
    first = None
    for run in runs:
        over = any(
            r.get("fingerprint") == alert.fingerprint and r.get("raw_severity") is not None
            for r in run.results or []
        )
        if not over:
            break
        first = run.started_at
    return first


def draft(
    session: Session, incident_id: str, now: datetime, config: TocsinConfig | None = None
) -> str:
    """Write (again) the Markdown draft on the incident and put it on the timeline; with
    `config`, its impact queries fill the customer impact (`incidents.impact`)."""
    incident = get(session, incident_id)
    f = figures(session, incident)
    found = (
        impact.lines(config, incident.services, f.started_at, f.resolved_at or now)
        if config is not None
        else []
    )
    text = render(session, incident, found)
    incident.postmortem = text
    incident.postmortem_written_at = now
    if incident.postmortem_done_at is None and incident.postmortem_due_at is None:
        incident.postmortem_due_at = now + REVIEW_WITHIN
    timeline.append(session, incident.id, "postmortem_written", now, note="draft written")
    return text


def mark_done(session: Session, incident_id: str, by: str, now: datetime) -> Incident:
    incident = get(session, incident_id)
    if incident.postmortem is None:
        raise Conflict(
            f"incident {incident_id} has no post-mortem yet: it is drafted on resolution"
        )
    if incident.postmortem_done_at is not None:
        raise Conflict(f"the post-mortem of {incident_id} is already done")
    incident.postmortem_done_at, incident.postmortem_due_at = now, None
    timeline.append(session, incident.id, "postmortem_written", now, actor=by, note="marked done")
    return incident


def render(session: Session, incident: Incident, impact_lines: Sequence[str] = ()) -> str:
    f = figures(session, incident)
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    ).all()
    updates = session.scalars(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident.id)
        .order_by(IncidentUpdate.at, IncidentUpdate.id)
    ).all()
    items = session.scalars(
        select(IncidentAction)
        .where(IncidentAction.incident_id == incident.id)
        .order_by(IncidentAction.due_at, IncidentAction.id)
    ).all()
    lasted = _span(f.since_start(f.resolved_at))
    out = [
        f"# Post-mortem: {incident.id} {incident.title}",
        "",
        "## Overview",
        f"{incident.severity}, {incident.status}. Services: {', '.join(incident.services) or '—'}. "
        f"Impact from {_t(f.started_at)} to {_t(f.resolved_at)} ({lasted}).",
        "",
        "## What Happened",
        "_Summarise the incident in a few sentences._",
        "",
        "## Contributing Factors",
        "_Root cause analysis: why it happened, not just what failed._",
        "",
        "## Resolution",
        (updates[-1].message if updates else "_What restored service._"),
        "",
        "## Impact",
        f"Customer impact: {incident.customer_impact or '_not recorded_'}.",
        *(
            ["Figures over the impact's window (`incidents.impact`):", *impact_lines]
            if impact_lines
            else [
                "Orders affected and revenue at risk: _not computed (no impact query configured)_."
            ]
        ),
        f"Time to resolution: {lasted}.",
        "",
        "## Responders",
        *[f"- {ROLE_NAMES[role]}: {_holder(incident, role)}" for role in ROLE_NAMES],
        "",
        "## Timeline",
        "| time (UTC) | event | by | note |",
        "|---|---|---|---|",
        *[f"| {_t(e.at)} | {e.kind} | {e.actor or ''} | {_cell(e.note or '')} |" for e in events],
        "",
        "## How'd We Do",
        f"- time to detect: {_span(f.since_start(f.detected_at))}",
        f"- time to acknowledge: {_span(f.since_start(f.acknowledged_at))}",
        f"- time to mitigate: {_span(f.since_start(f.mitigated_at))}",
        f"- time to resolve: {lasted}",
        "",
        "## Action Items",
        *(
            [
                f"- [{'x' if a.done_at else ' '}] {a.text} (owner {a.owner}, due {_t(a.due_at)})"
                for a in items
            ]
            or ["_Action items with owners and due dates._"]
        ),
        "",
        "## Preventive Measures",
        "_What keeps it from happening again._",
        "",
        "## Messaging",
        *(
            [f"- {_t(u.at)} {u.status}: {u.message}" for u in updates]
            or ["_No status updates posted._"]
        ),
        "",
    ]
    return "\n".join(out)


def _holder(incident: Incident, role: str) -> str:
    found: str | None = getattr(incident, role)
    return found or ("no commander" if role == "commander" else "—")


def _t(at: datetime | None) -> str:
    return "—" if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


def _span(value: timedelta | None) -> str:
    return (
        "—" if value is None else format_duration(timedelta(seconds=round(value.total_seconds())))
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
