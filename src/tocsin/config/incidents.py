"""Incidents: the zone their ids count days in, the status-update cadence, where their
updates go, and who is on call for a service when nobody has taken command."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from tocsin.config.fields import Duration, Strict, ZoneName

IncidentSeverity = Literal["SEV-1", "SEV-2", "SEV-3", "SEV-4"]


class ImpactQuery(Strict):
    """How to count what an incident cost the customers of one service."""

    source: str = Field(min_length=1, description="an SQL source of `sources:`")
    query: str = Field(
        min_length=1,
        max_length=20_000,
        description="read-only SQL over the incident's window, bound as :start and :end "
        "(UTC); each column of its rows becomes a figure of the post-mortem, like "
        "orders_affected and revenue_at_risk",
    )


class IncidentsConfig(Strict):
    """How incidents are numbered, how often they must say how they are going, and whom
    their updates and reminders reach."""

    timezone: ZoneName = Field(
        default="UTC", description="the zone whose calendar day an incident's id carries"
    )
    update_every: Duration = Field(
        default=timedelta(minutes=15),
        description="how long an open incident may go without a status update (reference "
        "000 6.3.2 step 6: every 15 minutes)",
    )
    update_every_by_severity: dict[IncidentSeverity, Duration] = Field(
        default_factory=dict,
        description="`update_every` for some severities, like {SEV-1: 10m, SEV-4: 1h}",
    )
    grace: Duration = Field(
        default=timedelta(minutes=5),
        description="after the reminder, how long before a missed update pages the commander",
    )
    channels: list[str] = Field(
        default_factory=list,
        description="the incident's chat channels: declarations, status changes and updates "
        "go there",
    )
    via: list[str] | None = Field(
        default=None,
        description="channels that reach a person (reminders, role instructions); default: "
        "every channel that can address one",
    )
    oncall: dict[str, str] = Field(
        default_factory=dict,
        description="who answers for a service while nobody has taken command: service name "
        "to user:NAME or schedule:NAME ('*' for any other service)",
    )

    templates: dict[str, str] = Field(
        default_factory=dict,
        description="customer communication templates by name (sandboxed Jinja2 over the "
        "incident), beside the shipped data-recovery-complete and status-update",
    )
    impact: dict[str, ImpactQuery] = Field(
        default_factory=dict,
        description="per service (`*`: any incident): the query whose figures fill the "
        "post-mortem's customer impact, run when the draft is written (within the source's "
        "timeout; a failure is written into the draft instead)",
    )
    verify_every: Duration = Field(
        default=timedelta(minutes=5),
        description="how often an action item's check runs until it passes and closes it",
    )
    contact: str = Field(
        default="our support team",
        max_length=200,
        description="who customers may ask, as the communication templates name it",
    )

    def cadence(self, severity: str) -> timedelta:
        """How long an incident of `severity` may go without an update."""
        found: timedelta = self.update_every_by_severity.get(severity, self.update_every)  # type: ignore[call-overload]
        return found
