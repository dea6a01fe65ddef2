"""What the status page shows now, read from the store in one transaction: each component's
status from open alerts, running maintenance and the declared impact of public incidents, the
overall status, the public incidents (open, and resolved in the last 90 days) with their public
updates, and the maintenance windows shown as scheduled maintenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.alerts.service import is_open
from tocsin.config.status import ComponentConfig, StatusConfig
from tocsin.incidents.lifecycle import OPEN
from tocsin.incidents.models import Incident, IncidentUpdate
from tocsin.noise import maintenance
from tocsin.noise.common import window_of
from tocsin.noise.models import MaintenanceWindow
from tocsin.statuspage.components import (
    IMPACT_STATUS,
    INCIDENT_STATUS,
    SEVERITY_IMPACT,
    OpenAlert,
    drives,
    indicator,
    status_of,
    worst,
)
from tocsin.statuspage.uptime import first_day


@dataclass(frozen=True)
class Maintenance:
    """A maintenance window as the page shows it: its next (or current) occurrence."""

    id: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    active: bool
    created_at: datetime
    components: tuple[str, ...]  # component ids


@dataclass(frozen=True)
class UpdateView:
    """One posted update of a public incident."""

    id: str
    status: str  # investigating | identified | monitoring | resolved
    body: str
    created_at: datetime


@dataclass(frozen=True)
class IncidentView:
    """A public incident as the page shows it (Statuspage's statuses and impact values)."""

    id: str
    name: str
    status: str
    impact: str  # none | minor | major | critical
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    components: tuple[str, ...]  # component ids
    updates: tuple[UpdateView, ...]  # newest first
    next_update_at: datetime | None = None


@dataclass(frozen=True)
class ComponentView:
    config: ComponentConfig
    status: str
    since: datetime | None  # when the oldest alert driving that status started

    @property
    def id(self) -> str:
        return self.config.id


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    title: str
    components: list[ComponentView]
    indicator: str
    description: str
    maintenances: list[Maintenance] = field(default_factory=list)
    incidents: list[IncidentView] = field(default_factory=list)  # unresolved, newest first
    history: list[IncidentView] = field(default_factory=list)  # resolved in 90 days, newest first

    @property
    def groups(self) -> list[tuple[str | None, list[ComponentView]]]:
        """Components under their group headings, in configured order (a group appears where
        its first component is)."""
        out: dict[str | None, list[ComponentView]] = {}
        for view in self.components:
            out.setdefault(view.config.group, []).append(view)
        return list(out.items())


# What the page reads of an alert (never its message: it may be internal).
ALERT_COLUMNS = (
    Alert.id,
    Alert.severity,
    Alert.labels,
    Alert.check_name,
    Alert.origin,
    Alert.source,
    Alert.started_at,
    Alert.resolved_at,
)


def as_alert(row: Any) -> OpenAlert:
    """A row of `ALERT_COLUMNS` (a SQLAlchemy Row) as `components` reads it."""
    heartbeat = row.source if row.origin == "heartbeat" else None
    return OpenAlert(row.severity, row.labels or {}, row.check_name, heartbeat, row.started_at)


def open_alerts(session: Session) -> list[OpenAlert]:
    return [as_alert(r) for r in session.execute(select(*ALERT_COLUMNS).where(is_open()))]


def maintenances(session: Session, config: StatusConfig, now: datetime) -> list[Maintenance]:
    """Public windows not over that cover a component's services, soonest first (none when
    the configuration turns them off)."""
    if not config.maintenance:
        return []
    out = []
    for row in maintenance.list_windows(session, now):
        if not row.public:
            continue
        affected = covered(config, row.services)
        if not affected:
            continue
        window = window_of(row)
        until = window.active_until(now)
        if until is not None:
            # A recurring window's occurrence began `duration` before it ends (or at its start).
            began = until - window.duration if window.duration else row.starts_at
            start = max(row.starts_at, began)
            out.append(_shown(row, start, until, True, affected))
            continue
        start_next = window.next_start(now)
        if start_next is None:
            continue
        end = min(row.ends_at, start_next + window.duration) if window.duration else row.ends_at
        out.append(_shown(row, start_next, end, False, affected))
    out.sort(key=lambda m: (m.starts_at, m.id))
    return out


def _shown(
    row: MaintenanceWindow,
    start: datetime,
    end: datetime,
    active: bool,
    covered: tuple[str, ...],
) -> Maintenance:
    return Maintenance(
        id=row.id,
        title=row.title,
        description=row.description,
        starts_at=start,
        ends_at=end,
        active=active,
        created_at=row.created_at,
        components=covered,
    )


def covered(config: StatusConfig, services: list[str]) -> tuple[str, ...]:
    """The ids of the components that have one of these services, in configured order."""
    return tuple(c.id for c in config.components if set(c.services) & set(services))


def public_incidents(
    session: Session, config: StatusConfig, now: datetime
) -> tuple[list[IncidentView], list[IncidentView]]:
    """Public incidents (not merged into another): those unresolved, and those resolved
    within the days the page shows; each newest first, with its public updates newest first.
    An incident declared after `now` (a clock behind the store's) is not shown yet."""
    rows = session.scalars(
        select(Incident)
        .where(
            Incident.public.is_(True),
            Incident.merged_into.is_(None),
            Incident.declared_at <= now,
            or_(Incident.status.in_(OPEN), Incident.resolved_at >= first_day(now)),
        )
        .order_by(Incident.declared_at.desc(), Incident.id.desc())
    ).all()
    updates: dict[str, list[UpdateView]] = {r.id: [] for r in rows}
    if rows:
        found = session.scalars(
            select(IncidentUpdate)
            .where(
                IncidentUpdate.incident_id.in_(list(updates)),
                IncidentUpdate.public.is_(True),
                IncidentUpdate.at <= now,
            )
            .order_by(IncidentUpdate.at.desc(), IncidentUpdate.id.desc())
        )
        for u in found:
            status = INCIDENT_STATUS.get(u.status, "investigating")
            updates[u.incident_id].append(UpdateView(str(u.id), status, u.message, u.at))
    unresolved: list[IncidentView] = []
    history: list[IncidentView] = []
    for r in rows:
        is_open = r.status in OPEN
        view = IncidentView(
            id=r.id,
            name=r.title,
            status=INCIDENT_STATUS.get(r.status, "investigating"),
            impact=SEVERITY_IMPACT.get(r.severity, "none"),
            created_at=r.declared_at,
            updated_at=max(r.updated_at, r.declared_at),
            resolved_at=None if is_open else r.resolved_at,
            components=covered(config, r.services),
            updates=tuple(updates[r.id]),
            next_update_at=r.next_update_due_at if is_open else None,
        )
        (unresolved if is_open else history).append(view)
    return unresolved, history


def declared_by(incidents: list[IncidentView]) -> dict[str, str]:
    """The status each component takes from the unresolved incidents that affect it: the
    worst of their declared impacts (an impact of `none` declares nothing)."""
    found: dict[str, list[str]] = {}
    for incident in incidents:
        if incident.impact == "none":
            continue
        for component in incident.components:
            found.setdefault(component, []).append(IMPACT_STATUS[incident.impact])
    return {component: worst(statuses) for component, statuses in found.items()}


def snapshot(session: Session, config: StatusConfig, now: datetime) -> Snapshot:
    """The page as of `now`. The declared impact of an unresolved public incident overrides
    what alerts and maintenance say of the components it affects."""
    alerts = open_alerts(session)
    windows = maintenances(session, config, now)
    running = {c for m in windows if m.active for c in m.components}
    unresolved, history = public_incidents(session, config, now)
    declared = declared_by(unresolved)
    views = []
    for component in config.components:
        status = status_of(
            component,
            alerts,
            config.impact,
            maintained=component.id in running,
            declared=declared.get(component.id),
        )
        driving = [a.started_at for a in alerts if drives(component, a)]
        views.append(ComponentView(component, status, min(driving, default=None)))
    shown, description = indicator(v.status for v in views)
    return Snapshot(now, config.title, views, shown, description, windows, unresolved, history)
