"""Configuration: the one YAML file, validated, and the only reader of the environment.

One module per subject holds its section classes (`sources`, `channels`, `routing`, `checks`,
`oncall`, `noise`, `heartbeats`, `runtime`, `egress`), built from the shared pieces in `fields`;
`model.TocsinConfig` gathers them. `loader` reads the file (line marks, `${VAR}`), `problems`
words what is wrong, `crosscheck` checks references between sections (over what validated:
`lenient`), `masking` hides secrets, `reference` writes the JSON Schema and the docs.
A new subject is a new module here and one field in `model`. The package imports no domain.

The names below are re-exported so `from tocsin.config import TocsinConfig, load` keeps working;
code inside `src/` imports from the subject module. They load on first use, not with the
package: `tocsin.config.locate` (the store's URL, for commands that only use the store) must
not pay for pydantic and every section's models (`tests/cli/test_startup.py`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tocsin.config.channels import (
        ChannelConfig,
        ConsoleChannelConfig,
        DiscordChannelConfig,
        EmailChannelConfig,
        PagerDutyChannelConfig,
        SlackChannelConfig,
        TwilioChannelConfig,
        WebhookChannelConfig,
    )
    from tocsin.config.checks import (
        ActiveHoursConfig,
        BaselineConfig,
        CheckConfig,
        ConditionConfig,
        HistoryBaselineConfig,
        OnErrorConfig,
        ScheduleConfig,
    )
    from tocsin.config.egress import EgressConfig
    from tocsin.config.fields import DAYS, SEVERITIES, Severity, parse_duration
    from tocsin.config.heartbeats import HeartbeatConfig
    from tocsin.config.loader import database_url, load, parse
    from tocsin.config.locate import DEFAULT_CONFIG_PATH, DEFAULT_DATABASE_URL, config_path
    from tocsin.config.masking import masked
    from tocsin.config.model import LoadedConfig, TocsinConfig
    from tocsin.config.noise import (
        FlappingConfig,
        GroupingConfig,
        InhibitRuleConfig,
        KnownIssueConfig,
        MaintenanceSeedConfig,
        SilenceSeedConfig,
    )
    from tocsin.config.oncall import LayerConfig, OncallScheduleConfig, RestrictConfig, UserConfig
    from tocsin.config.routing import (
        EscalationPolicyConfig,
        EscalationStepConfig,
        NotificationsConfig,
        RouteConfig,
    )
    from tocsin.config.runtime import ApiConfig, StoreConfig, WorkerConfig
    from tocsin.config.sources import (
        HttpSourceConfig,
        PrometheusSourceConfig,
        SourceConfig,
        SqlSourceConfig,
    )

# Where each re-exported name lives, for __getattr__.
_WHERE = {
    "ActiveHoursConfig": "checks",
    "ApiConfig": "runtime",
    "BaselineConfig": "checks",
    "ChannelConfig": "channels",
    "CheckConfig": "checks",
    "ConditionConfig": "checks",
    "ConsoleChannelConfig": "channels",
    "DAYS": "fields",
    "DEFAULT_CONFIG_PATH": "locate",
    "DEFAULT_DATABASE_URL": "locate",
    "DiscordChannelConfig": "channels",
    "EgressConfig": "egress",
    "EmailChannelConfig": "channels",
    "EscalationPolicyConfig": "routing",
    "EscalationStepConfig": "routing",
    "FlappingConfig": "noise",
    "GroupingConfig": "noise",
    "HeartbeatConfig": "heartbeats",
    "HistoryBaselineConfig": "checks",
    "HttpSourceConfig": "sources",
    "InhibitRuleConfig": "noise",
    "KnownIssueConfig": "noise",
    "LayerConfig": "oncall",
    "LoadedConfig": "model",
    "MaintenanceSeedConfig": "noise",
    "NotificationsConfig": "routing",
    "OnErrorConfig": "checks",
    "OncallScheduleConfig": "oncall",
    "PagerDutyChannelConfig": "channels",
    "PrometheusSourceConfig": "sources",
    "RestrictConfig": "oncall",
    "RouteConfig": "routing",
    "SEVERITIES": "fields",
    "ScheduleConfig": "checks",
    "Severity": "fields",
    "SilenceSeedConfig": "noise",
    "SlackChannelConfig": "channels",
    "SourceConfig": "sources",
    "SqlSourceConfig": "sources",
    "StoreConfig": "runtime",
    "TocsinConfig": "model",
    "TwilioChannelConfig": "channels",
    "UserConfig": "oncall",
    "WebhookChannelConfig": "channels",
    "WorkerConfig": "runtime",
    "config_path": "locate",
    "database_url": "loader",
    "load": "loader",
    "masked": "masking",
    "parse": "loader",
    "parse_duration": "fields",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DAYS",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DATABASE_URL",
    "SEVERITIES",
    "ActiveHoursConfig",
    "ApiConfig",
    "BaselineConfig",
    "ChannelConfig",
    "CheckConfig",
    "ConditionConfig",
    "ConsoleChannelConfig",
    "DiscordChannelConfig",
    "EgressConfig",
    "EmailChannelConfig",
    "EscalationPolicyConfig",
    "EscalationStepConfig",
    "FlappingConfig",
    "GroupingConfig",
    "HeartbeatConfig",
    "HistoryBaselineConfig",
    "HttpSourceConfig",
    "InhibitRuleConfig",
    "KnownIssueConfig",
    "LayerConfig",
    "LoadedConfig",
    "MaintenanceSeedConfig",
    "NotificationsConfig",
    "OnErrorConfig",
    "OncallScheduleConfig",
    "PagerDutyChannelConfig",
    "PrometheusSourceConfig",
    "RestrictConfig",
    "RouteConfig",
    "ScheduleConfig",
    "Severity",
    "SilenceSeedConfig",
    "SlackChannelConfig",
    "SourceConfig",
    "SqlSourceConfig",
    "StoreConfig",
    "TocsinConfig",
    "TwilioChannelConfig",
    "UserConfig",
    "WebhookChannelConfig",
    "WorkerConfig",
    "config_path",
    "database_url",
    "load",
    "masked",
    "parse",
    "parse_duration",
]
