"""The inputs of uptime, read from the store: each component's outage spans (alerts whose
severity gives a partial or major outage, from start to resolution or now; public incidents
whose declared impact is major or critical, from their declaration to resolution or now) and
maintenance spans (occurrences of public windows over its services: customers were told),
over the last 90 days.

An alert counts with the severity it has now (a severity changed mid-alert is not split).

The closed days are cached (`status_uptime_day`): the hourly `status-uptime` job (a periodic
job, one instance per hour) computes all 89 of them; the page reads those and computes from
the store only the days after the last one cached (today, at least). So a change to a past
day (an incident declared retroactively, a window made public afterwards) shows within the
hour, and a new configuration of components (another `config_key`) is computed live until
the job has run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tocsin import periodic
from tocsin.alerts.models import Alert
from tocsin.config.status import StatusConfig
from tocsin.incidents.models import Incident
from tocsin.noise.common import window_of
from tocsin.noise.models import MaintenanceWindow
from tocsin.statuspage.components import IMPACT_STATUS, SEVERITY_IMPACT, Driven
from tocsin.statuspage.models import StatusUptimeDay
from tocsin.statuspage.service import ALERT_COLUMNS, as_alert, covered
from tocsin.statuspage.uptime import DAY, DAYS, Day, Span, Uptime, days_from, first_day, joined

OUTAGES = {"partial_outage", "major_outage"}
JOB = "status-uptime"  # the periodic job that caches closed days, once per slot
EVERY = timedelta(hours=1)
MAX_OCCURRENCES = 10_000  # of one recurring window in 90 days (every 13 minutes)


@dataclass
class Inputs:
    outages: list[tuple[Span, str]] = field(default_factory=list)  # "alert 12", "incident …"
    maintenance: list[tuple[Span, str]] = field(default_factory=list)  # with the window's id


def inputs(
    session: Session, config: StatusConfig, now: datetime, since: datetime | None = None
) -> dict[str, Inputs]:
    """Each component's spans since `since` (the first day shown), by component id."""
    since = first_day(now) if since is None else since
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


def days_of(got: Inputs, since: datetime, now: datetime) -> list[Day]:
    return days_from([s for s, _ in got.outages], [s for s, _ in got.maintenance], since, now)


def config_key(config: StatusConfig) -> str:
    """What uptime depends on in the configuration: each component's sources and the impact
    table, hashed (cached days of another configuration are not read)."""
    parts = [
        [c.id, sorted(c.services), sorted(c.checks), sorted(c.heartbeats)]
        for c in config.components
    ]
    text = json.dumps([parts, sorted(config.impact.items())], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cached(session: Session, config: StatusConfig, now: datetime) -> dict[str, list[Day]]:
    """The cached closed days of this configuration in the range shown, oldest first."""
    today = first_day(now) + (DAYS - 1) * DAY
    rows = session.execute(
        select(
            StatusUptimeDay.component,
            StatusUptimeDay.day,
            StatusUptimeDay.observed_s,
            StatusUptimeDay.outage_s,
            StatusUptimeDay.maintenance_s,
        )
        .where(
            StatusUptimeDay.config_key == config_key(config),
            StatusUptimeDay.day >= first_day(now).date(),
            StatusUptimeDay.day < today.date(),
        )
        .order_by(StatusUptimeDay.component, StatusUptimeDay.day)
    )
    found: dict[str, list[Day]] = {c.id: [] for c in config.components}
    for r in rows:
        if r.component in found:
            found[r.component].append(Day(r.day, r.observed_s, r.outage_s, r.maintenance_s))
    return found


def per_component(session: Session, config: StatusConfig, now: datetime) -> dict[str, Uptime]:
    """Each component's 90 days: the cached closed days, and the days after the first day
    missing from the cache (of any component) computed from the store."""
    start = first_day(now)
    have = cached(session, config, now)
    dates = [{d.date for d in days} for days in have.values()]
    since = start
    while since.date() < now.date() and all(since.date() in known for known in dates):
        since += DAY
    live = inputs(session, config, now, since)
    return {cid: joined(have[cid], days_of(got, since, now)) for cid, got in live.items()}


def refresh(session: Session, config: StatusConfig, now: datetime) -> int:
    """Compute every closed day of the range and replace the cache with them (rows of other
    configurations, and days gone out of the range, are deleted); the rows written."""
    start = first_day(now)
    today = start + (DAYS - 1) * DAY
    session.execute(delete(StatusUptimeDay))
    key = config_key(config)
    rows = []
    for cid, got in inputs(session, config, today, start).items():
        for day in days_of(got, start, today)[:-1]:  # the last is today, not closed
            rows.append(
                StatusUptimeDay(
                    component=cid,
                    day=day.date,
                    config_key=key,
                    observed_s=day.observed_s,
                    outage_s=day.outage_s,
                    maintenance_s=day.maintenance_s,
                    computed_at=now,
                )
            )
    session.add_all(rows)
    return len(rows)


def cache_due(session: Session, config: StatusConfig, now: datetime, owner: str = "") -> int:
    """The worker's step: refresh the cache once per hour across every instance (the hour's
    `job_slot` is claimed in this transaction, so the rows and the claim commit together);
    the rows written (0 when another instance had the hour, or no component is configured)."""
    if not config.components:
        return 0
    if not periodic.once(session, JOB, periodic.slot_at(now, EVERY), now, owner):
        return 0
    return refresh(session, config, now)
