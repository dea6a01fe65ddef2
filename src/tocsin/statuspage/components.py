"""A component's status from the open alerts that drive it, and the page's overall status, in
Atlassian Statuspage's vocabulary (pure: no store, no clock)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.config.status import ComponentConfig

OPERATIONAL = "operational"
MAINTENANCE = "under_maintenance"
# Least to most severe; the worst status a component's alerts give it wins.
RANK = {
    OPERATIONAL: 0,
    MAINTENANCE: 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
LABELS = {
    OPERATIONAL: "Operational",
    MAINTENANCE: "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
# Statuspage's `status.indicator` and its description, from the worst component status.
INDICATORS = {
    OPERATIONAL: ("none", "All Systems Operational"),
    MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    "degraded_performance": ("minor", "Minor Service Outage"),
    "partial_outage": ("major", "Partial System Outage"),
    "major_outage": ("critical", "Major System Outage"),
}
# An incident's declared impact as a component status (Statuspage's impact values).
IMPACT_STATUS = {
    "none": OPERATIONAL,
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
    "maintenance": MAINTENANCE,
}
# An incident's severity as Statuspage's impact (its declared impact on the page).
SEVERITY_IMPACT = {"SEV-1": "critical", "SEV-2": "major", "SEV-3": "minor", "SEV-4": "none"}
# An incident's status in Statuspage's words: `mitigating` (a fix being applied) is
# Statuspage's `identified` ("a fix is being implemented"); `closed` is still `resolved`.
INCIDENT_STATUS = {
    "investigating": "investigating",
    "identified": "identified",
    "mitigating": "identified",
    "resolved": "resolved",
    "closed": "resolved",
}


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """What of an open alert the page reads (never its message: it may be internal)."""

    severity: str
    labels: Mapping[str, str]
    check_name: str | None
    heartbeat: str | None
    started_at: datetime


def drives(component: ComponentConfig, alert: OpenAlert) -> bool:
    """Whether the alert is about the component: its service, check or heartbeat."""
    return (
        alert.labels.get("service", "") in component.services
        or (alert.check_name is not None and alert.check_name in component.checks)
        or (alert.heartbeat is not None and alert.heartbeat in component.heartbeats)
    )


class Driven:
    """Which components an alert drives, by look-up (the uptime history reads every alert of
    90 days; `drives` per component and alert is the same answer, slower)."""

    def __init__(self, components: Iterable[ComponentConfig]) -> None:
        self.services: dict[str, list[str]] = {}
        self.checks: dict[str, list[str]] = {}
        self.heartbeats: dict[str, list[str]] = {}
        for c in components:
            for key, table in ((c.services, self.services), (c.checks, self.checks)):
                for name in key:
                    table.setdefault(name, []).append(c.id)
            for name in c.heartbeats:
                self.heartbeats.setdefault(name, []).append(c.id)

    def __call__(self, alert: OpenAlert) -> set[str]:
        found = set(self.services.get(alert.labels.get("service", ""), ()))
        if alert.check_name is not None:
            found.update(self.checks.get(alert.check_name, ()))
        if alert.heartbeat is not None:
            found.update(self.heartbeats.get(alert.heartbeat, ()))
        return found


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=RANK.__getitem__, default=OPERATIONAL)


def status_of(
    component: ComponentConfig,
    alerts: Iterable[OpenAlert],
    impact: Mapping[Any, str],
    *,
    maintained: bool = False,
    declared: str | None = None,
) -> str:
    """The component's status: an incident's declared impact (`declared`, a status) wins;
    else under maintenance while a window covers it; else the worst status its open alerts'
    severities map to in `impact` (a severity missing there does not count)."""
    if declared is not None:
        return declared
    if maintained:
        return MAINTENANCE
    return worst(
        impact[a.severity] for a in alerts if a.severity in impact and drives(component, a)
    )


def indicator(statuses: Iterable[str]) -> tuple[str, str]:
    """Statuspage's overall `(indicator, description)` for these component statuses."""
    return INDICATORS[worst(statuses)]
