"""What the status page shows now, read from the store in one transaction: each component's
status from open alerts and running maintenance, the overall status, and the maintenance
windows shown as scheduled maintenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.alerts.service import is_open
from tocsin.config.status import ComponentConfig, StatusConfig
from tocsin.noise import maintenance
from tocsin.noise.common import window_of
from tocsin.noise.models import MaintenanceWindow
from tocsin.statuspage.components import OpenAlert, drives, indicator, status_of


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
    """Windows not over that cover a component's services, soonest first (none when the
    configuration turns them off)."""
    if not config.maintenance:
        return []
    out = []
    for row in maintenance.list_windows(session, now):
        covered = tuple(c.id for c in config.components if set(c.services) & set(row.services))
        if not covered:
            continue
        window = window_of(row)
        until = window.active_until(now)
        if until is not None:
            # A recurring window's occurrence began `duration` before it ends (or at its start).
            began = until - window.duration if window.duration else row.starts_at
            start = max(row.starts_at, began)
            out.append(_shown(row, start, until, True, covered))
            continue
        start_next = window.next_start(now)
        if start_next is None:
            continue
        end = min(row.ends_at, start_next + window.duration) if window.duration else row.ends_at
        out.append(_shown(row, start_next, end, False, covered))
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


def snapshot(
    session: Session,
    config: StatusConfig,
    now: datetime,
    declared: dict[str, str] | None = None,
) -> Snapshot:
    """The page as of `now`. `declared` maps component ids to the status an unresolved public
    incident's impact gives them (it overrides what alerts say)."""
    alerts = open_alerts(session)
    windows = maintenances(session, config, now)
    running = {c for m in windows if m.active for c in m.components}
    views = []
    for component in config.components:
        status = status_of(
            component,
            alerts,
            config.impact,
            maintained=component.id in running,
            declared=(declared or {}).get(component.id),
        )
        driving = [a.started_at for a in alerts if drives(component, a)]
        views.append(ComponentView(component, status, min(driving, default=None)))
    shown, description = indicator(v.status for v in views)
    return Snapshot(now, config.title, views, shown, description, windows)
