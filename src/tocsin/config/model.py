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
from tocsin.config.fields import Name, Strict
from tocsin.config.heartbeats import HeartbeatConfig
from tocsin.config.noise import (
    FlappingConfig,
    GroupingConfig,
    InhibitRuleConfig,
    KnownIssueConfig,
    MaintenanceSeedConfig,
    SilenceSeedConfig,
)
from tocsin.config.oncall import OncallScheduleConfig, UserConfig
from tocsin.config.routing import EscalationPolicyConfig, NotificationsConfig, RouteConfig
from tocsin.config.runbooks import RunbooksConfig
from tocsin.config.runtime import ApiConfig, StoreConfig, WorkerConfig
from tocsin.config.sources import SourceConfig


class TocsinConfig(Strict):
    public_url: str = Field(
        default="http://127.0.0.1:8080", description="where links in notifications point"
    )
    store: StoreConfig = Field(default_factory=StoreConfig)
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    sources: dict[Name, SourceConfig] = Field(default_factory=dict)
    channels: dict[Name, ChannelConfig] = Field(default_factory=dict)
    checks: list[CheckConfig] = Field(default_factory=list)
    routes: RouteConfig | None = Field(
        default=None, description="the route tree; without it, reference 000 6.2.1's matrix"
    )
    escalation_policies: dict[Name, EscalationPolicyConfig] = Field(default_factory=dict)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    users: dict[Name, UserConfig] = Field(default_factory=dict)
    schedules: dict[Name, OncallScheduleConfig] = Field(default_factory=dict)
    heartbeats: list[HeartbeatConfig] = Field(default_factory=list)
    api: ApiConfig = Field(default_factory=ApiConfig)
    secret_key: str | None = Field(
        default=None, min_length=32, description="signs acknowledge links; else kept in the store"
    )
    grouping: GroupingConfig | None = None
    inhibit_rules: list[InhibitRuleConfig] = Field(default_factory=list)
    known_issues: list[KnownIssueConfig] = Field(default_factory=list)
    flapping: FlappingConfig | None = None
    silences: list[SilenceSeedConfig] = Field(default_factory=list)
    maintenance: list[MaintenanceSeedConfig] = Field(default_factory=list)
    runbooks: RunbooksConfig = Field(default_factory=RunbooksConfig)

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
