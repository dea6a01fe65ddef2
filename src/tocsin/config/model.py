"""The whole file: `TocsinConfig`, one field per top-level section, and `LoadedConfig`.

A new subject (incidents, runbooks, status, reports, …) gets its own module in this package
with its section classes, and one field here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from tocsin.config.channels import ChannelConfig
from tocsin.config.checks import CheckConfig
from tocsin.config.console import ConsoleConfig
from tocsin.config.egress import EgressConfig
from tocsin.config.fields import Name, Strict
from tocsin.config.heartbeats import HeartbeatConfig
from tocsin.config.incidents import IncidentsConfig
from tocsin.config.noise import (
    FlappingConfig,
    GroupingConfig,
    InhibitRuleConfig,
    KnownIssueConfig,
    MaintenanceSeedConfig,
    SilenceSeedConfig,
)
from tocsin.config.oncall import OncallScheduleConfig, UserConfig
from tocsin.config.reports import ReportConfig, RetentionConfig
from tocsin.config.routing import EscalationPolicyConfig, NotificationsConfig, RouteConfig
from tocsin.config.runbooks import RunbooksConfig
from tocsin.config.runtime import ApiConfig, StoreConfig, WorkerConfig
from tocsin.config.slos import SloConfig
from tocsin.config.sources import SourceConfig
from tocsin.config.status import StatusConfig


class TocsinConfig(Strict):
    """The whole of tocsin.yaml: every section is optional."""

    public_url: str = Field(
        default="http://127.0.0.1:8080", description="where links in notifications point"
    )
    store: StoreConfig = Field(
        default_factory=StoreConfig, description="where Tocsin keeps its own state"
    )
    worker: WorkerConfig = Field(
        default_factory=WorkerConfig, description="the pace of `tocsin run`'s workers"
    )
    sources: dict[Name, SourceConfig] = Field(
        default_factory=dict, description="where checks read from, by name"
    )
    channels: dict[Name, ChannelConfig] = Field(
        default_factory=dict, description="where notifications go, by name"
    )
    checks: list[CheckConfig] = Field(
        default_factory=list, description="the scheduled rules that raise alerts"
    )
    routes: RouteConfig | None = Field(
        default=None, description="the route tree; without it, reference 000 6.2.1's matrix"
    )
    escalation_policies: dict[Name, EscalationPolicyConfig] = Field(
        default_factory=dict,
        description="steps that page further until someone acknowledges, by name",
    )
    notifications: NotificationsConfig = Field(
        default_factory=NotificationsConfig, description="how notifications go out"
    )
    users: dict[Name, UserConfig] = Field(
        default_factory=dict, description="the people escalation steps can page, by name"
    )
    schedules: dict[Name, OncallScheduleConfig] = Field(
        default_factory=dict, description="on-call rotations, by name"
    )
    heartbeats: list[HeartbeatConfig] = Field(
        default_factory=list, description="ping URLs that cron jobs call; a missed ping alerts"
    )
    api: ApiConfig = Field(
        default_factory=ApiConfig, description="the HTTP API `tocsin run` serves"
    )
    egress: EgressConfig = Field(
        default_factory=EgressConfig,
        description="where outbound HTTP (channels, HTTP and Prometheus sources) may connect",
    )
    secret_key: str | None = Field(
        default=None, min_length=32, description="signs acknowledge links; else kept in the store"
    )
    grouping: GroupingConfig | None = Field(
        default=None, description="notify alerts in groups, as Alertmanager does (off: one by one)"
    )
    inhibit_rules: list[InhibitRuleConfig] = Field(
        default_factory=list, description="firing alerts that mute others"
    )
    known_issues: list[KnownIssueConfig] = Field(
        default_factory=list, description="expected problems whose alerts are not notified"
    )
    flapping: FlappingConfig | None = Field(
        default=None, description="quiet series that change state too often (off when unset)"
    )
    silences: list[SilenceSeedConfig] = Field(
        default_factory=list, description="silences written to the store when the worker starts"
    )
    maintenance: list[MaintenanceSeedConfig] = Field(
        default_factory=list,
        description="maintenance windows written to the store when the worker starts",
    )
    runbooks: RunbooksConfig = Field(
        default_factory=RunbooksConfig, description="the folder of runbooks alerts link to"
    )
    incidents: IncidentsConfig = Field(
        default_factory=IncidentsConfig,
        description="incident ids, the status-update cadence and where updates go",
    )
    status: StatusConfig = Field(
        default_factory=StatusConfig, description="the public status page served at /status"
    )
    reports: dict[Name, ReportConfig] = Field(
        default_factory=dict,
        description="scheduled operations reports (health checks, reviews), by name",
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig,
        description="how long evaluations, stored values and report runs are kept",
    )
    slos: dict[Name, SloConfig] = Field(
        default_factory=dict,
        description="service-level objectives, their error budgets and burn-rate alerts, by name",
    )
    console: ConsoleConfig = Field(
        default_factory=ConsoleConfig, description="the operator console's sessions and sign-ins"
    )

    def check(self, name: str) -> CheckConfig:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration and where it came from."""

    config: TocsinConfig
    path: Path
    database_url: str
    secrets: frozenset[str]
