"""The inputs of uptime, read from the store: each component's outage spans (alerts whose
severity gives a partial or major outage, from start to resolution or now; public incidents
whose declared impact is major or critical, from their declaration to resolution or now) and
maintenance spans (occurrences of public windows over its services: customers were told),
over the last 90 days.

An alert counts with the severity it has now (a severity changed mid-alert is not split)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.config.status import StatusConfig
from tocsin.incidents.models import Incident
from tocsin.noise.common import window_of
from tocsin.noise.models import MaintenanceWindow
from tocsin.statuspage.components import IMPACT_STATUS, SEVERITY_IMPACT, Driven
from tocsin.statuspage.service import ALERT_COLUMNS, as_alert, covered
from tocsin.statuspage.uptime import Span, Uptime, first_day, uptime

OUTAGES = {"partial_outage", "major_outage"}
MAX_OCCURRENCES = 10_000  # of one recurring window in 90 days (every 13 minutes)


@dataclass
class Inputs:
    outages: list[tuple[Span, str]] = field(default_factory=list)  # "alert 12", "incident …"
    maintenance: list[tuple[Span, str]] = field(default_factory=list)  # with the window's id


def inputs(session: Session, config: StatusConfig, now: datetime) -> dict[str, Inputs]:
    """Each component's spans since the first day shown, by component id."""
    since = first_day(now)
    found = {c.id: Inputs() for c in config.components}
    counted = {s for s, status in config.impact.items() if status in OUTAGES}
    rows = session.execute(
        select(*ALERT_COLUMNS).where(
            Alert.severity.in_(counted),
            Alert.started_at < now,
            or_(Alert.resolved_at.is_(None), Alert.resolved_at > since),
        )
    )
    driven = Driven(config.components)
    for r in rows:
        span = (max(r.started_at, since), min(r.resolved_at or now, now))
        for component_id in driven(as_alert(r)):
            found[component_id].outages.append((span, f"alert {r.id}"))
    outage_severities = [s for s, i in SEVERITY_IMPACT.items() if IMPACT_STATUS[i] in OUTAGES]
    incidents = session.execute(
        select(Incident.id, Incident.services, Incident.declared_at, Incident.resolved_at).where(
            Incident.public.is_(True),
            Incident.merged_into.is_(None),
            Incident.severity.in_(outage_severities),
            Incident.declared_at < now,
            or_(Incident.resolved_at.is_(None), Incident.resolved_at > since),
        )
    )
    for i in incidents:
        span = (max(i.declared_at, since), min(i.resolved_at or now, now))
        for component_id in covered(config, i.services or []):
            found[component_id].outages.append((span, f"incident {i.id}"))
    windows = session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.public.is_(True),
            MaintenanceWindow.starts_at < now,
            MaintenanceWindow.ends_at > since,
        )
    ).all()
    for window in windows:
        spans = occurrences(window, since, now)
        for component in config.components:
            if set(component.services) & set(window.services):
                found[component.id].maintenance += [(s, window.id) for s in spans]
    return found


def occurrences(row: MaintenanceWindow, since: datetime, now: datetime) -> list[Span]:
    """The window's spans within [since, now) (each occurrence of a recurring one)."""
    window = window_of(row)
    if window.every is None or window.duration is None:
        return [(max(row.starts_at, since), min(row.ends_at, now))]
    out: list[Span] = []
    cursor = max(row.starts_at, since - window.duration)
    while cursor < now and len(out) < MAX_OCCURRENCES:
        start = window.next_start(cursor - timedelta(seconds=1))
        if start is None or start >= now:
            break
        end = min(start + window.duration, row.ends_at, now)
        if end > since:
            out.append((max(start, since), end))
        cursor = start + timedelta(minutes=1)
    return out


def per_component(session: Session, config: StatusConfig, now: datetime) -> dict[str, Uptime]:
    return {
        cid: uptime([s for s, _ in got.outages], [s for s, _ in got.maintenance], now)
        for cid, got in inputs(session, config, now).items()
    }
