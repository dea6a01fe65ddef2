"""Configuration: the one YAML file, validated, and the only reader of the environment.

One module per subject holds its section classes (`sources`, `channels`, `routing`, `checks`,
`oncall`, `noise`, `heartbeats`, `runtime`, `egress`), built from the shared pieces in `fields`;
`model.TocsinConfig` gathers them. `loader` reads the file (line marks, `${VAR}`), `problems`
words what is wrong, `crosscheck` checks references between sections (over what validated:
`lenient`), `masking` hides secrets, `reference` writes the JSON Schema and the docs.
A new subject is a new module here and one field in `model`. The package imports no domain.

The names below are re-exported so `from tocsin.config import TocsinConfig, load` keeps working;
code inside `src/` imports from the subject module.
"""

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
from tocsin.config.loader import DEFAULT_CONFIG_PATH, config_path, database_url, load, parse
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
from tocsin.config.runtime import DEFAULT_DATABASE_URL, ApiConfig, StoreConfig, WorkerConfig
from tocsin.config.sources import (
    HttpSourceConfig,
    PrometheusSourceConfig,
    SourceConfig,
    SqlSourceConfig,
)

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
