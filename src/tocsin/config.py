"""Configuration: the one YAML file, validated, and the only reader of the environment.

`load(path)` returns a `TocsinConfig` or raises `ConfigError` whose problems each read
`file:line: field.path: what is wrong`. Secrets are written `${VAR}` and taken from the
environment when the file is loaded; `masked()` gives a copy fit to print.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tocsin.errors import ConfigError

DEFAULT_CONFIG_PATH = "tocsin.yaml"
DEFAULT_DATABASE_URL = "sqlite:///tocsin.db"
SEVERITIES = ("CRITICAL", "HIGH", "WARNING", "INFO")
Severity = Literal["CRITICAL", "HIGH", "WARNING", "INFO"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """Parse `90s`, `5m`, `1h30m`, `7d` (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h30m, 7d")
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h30m, 7d")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def _zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known time zone (e.g. America/New_York)") from exc
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ZoneName = Annotated[str, BeforeValidator(_zone)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- sources -------------------------------------------------------------------------------


class SqlSourceConfig(_Strict):
    type: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL; opened read-only")
    statement_timeout: Duration = timedelta(seconds=10)


class HttpSourceConfig(_Strict):
    type: Literal["http"]
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    timeout: Duration = timedelta(seconds=10)
    verify_tls: bool = True
    max_body_bytes: int = Field(default=1_048_576, gt=0)


class PrometheusSourceConfig(_Strict):
    type: Literal["prometheus"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=10)


SourceConfig = Annotated[
    SqlSourceConfig | HttpSourceConfig | PrometheusSourceConfig, Field(discriminator="type")
]


# --- channels ------------------------------------------------------------------------------


class ConsoleChannelConfig(_Strict):
    type: Literal["console"]
    stream: Literal["stdout", "stderr"] = "stdout"


class _HttpChannel(_Strict):
    timeout: Duration = timedelta(seconds=10)


class DiscordChannelConfig(_HttpChannel):
    type: Literal["discord"]
    url: str = Field(description="the webhook URL (a secret: use ${VAR})")
    footer: str = "Tocsin"
    # Discord has no @channel: CRITICAL mentions @here, or a role such as "<@&123456789>".
    critical_mention: str = "@here"


class SlackChannelConfig(_HttpChannel):
    type: Literal["slack"]
    url: str = Field(description="the incoming-webhook URL (a secret: use ${VAR})")


class PagerDutyChannelConfig(_HttpChannel):
    type: Literal["pagerduty"]
    routing_key: str
    url: str = "https://events.pagerduty.com/v2/enqueue"


class WebhookChannelConfig(_HttpChannel):
    type: Literal["webhook"]
    url: str
    secret: str | None = Field(default=None, description="HMAC-SHA256 signing key")
    headers: dict[str, str] = Field(default_factory=dict)


class TwilioChannelConfig(_HttpChannel):
    type: Literal["twilio"]
    mode: Literal["sms", "voice"] = "sms"
    account_sid: str
    auth_token: str
    from_number: str
    to: list[str] = Field(min_length=1)
    url: str = "https://api.twilio.com"


class EmailChannelConfig(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    from_address: str
    to: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=15)


ChannelConfig = Annotated[
    ConsoleChannelConfig
    | DiscordChannelConfig
    | SlackChannelConfig
    | PagerDutyChannelConfig
    | WebhookChannelConfig
    | TwilioChannelConfig
    | EmailChannelConfig,
    Field(discriminator="type"),
]


# --- routing and escalation ----------------------------------------------------------------


def _matcher_list(value: list[str]) -> list[str]:
    from tocsin.errors import Invalid
    from tocsin.matchers import parse_matcher

    for text in value:
        try:
            parse_matcher(text)
        except Invalid as exc:
            raise ValueError(str(exc)) from exc
    return value


Matchers = Annotated[list[str], AfterValidator(_matcher_list)]


class RouteConfig(_Strict):
    """One node of the route tree (Alertmanager's semantics). A child is tried in order when
    its parent matches; the first matching child wins unless it says `continue: true`. Unset
    `notify`, `escalation` and `digest` are inherited from the parent."""

    matchers: Matchers = Field(default_factory=list)
    notify: list[str] | None = None
    escalation: str | None = None
    digest: bool | None = Field(
        default=None, description="send INFO-style: in the daily digest instead of at once"
    )
    continue_: bool = Field(default=False, alias="continue")
    routes: list[RouteConfig] = Field(default_factory=list)


class EscalationStepConfig(_Strict):
    after: Duration = timedelta(0)
    notify: list[str] = Field(
        min_length=1, description="channel names, user:NAME, schedule:NAME or schedule:NAME:backup"
    )
    via: list[str] | None = Field(
        default=None, description="channels that reach users and schedules (default: all that can)"
    )


class EscalationPolicyConfig(_Strict):
    steps: list[EscalationStepConfig] = Field(min_length=1)
    repeat: Duration | None = Field(
        default=None, description="re-run the last step this often until acknowledged"
    )
    repeat_limit: int = Field(default=10, ge=1, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> EscalationPolicyConfig:
        for before, step in zip(self.steps, self.steps[1:], strict=False):
            if step.after < before.after:
                raise ValueError("steps must be in order of 'after'")
        if self.repeat is not None and self.repeat <= timedelta(0):
            raise ValueError("repeat must be longer than 0s")
        return self


class NotificationsConfig(_Strict):
    fallback: list[str] | None = Field(
        default=None,
        description="where 'a notification failed for good' goes (default: every other channel)",
    )
    digest_at: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    digest_timezone: ZoneName = "UTC"
    concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="deliveries in flight at once (one alert's notifications to one channel "
        "still go in order)",
    )


# --- checks --------------------------------------------------------------------------------


class ScheduleConfig(_Strict):
    every: Duration | None = None
    cron: str | None = None
    timezone: ZoneName = "UTC"

    @model_validator(mode="after")
    def _one_of(self) -> ScheduleConfig:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' (like 5m) or 'cron' (like '*/5 * * * *')")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError("'every' must be longer than zero")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"{self.cron!r} is not a valid cron expression")
        return self


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class _DailyWindow(_Strict):
    between: str
    days: list[Day] = Field(default_factory=lambda: list(DAYS))

    @field_validator("between")
    @classmethod
    def _window(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a window like '06:00-23:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"{value!r} has an impossible time")
        return value

    def _parts(self) -> tuple[int, int, int, int]:
        match = _HOURS.match(self.between)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return h1, m1, h2, m2


class ActiveHoursConfig(_DailyWindow):
    """A daily window in an explicit zone; `between: "06:00-23:00"` (end may wrap past midnight)."""

    timezone: ZoneName

    def bounds(self) -> tuple[time, time]:
        h1, m1, h2, m2 = self._parts()
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        return time(h1 % 24, m1), end


class ConditionConfig(_Strict):
    """One rung of the ladder: `when` is an expression; a leading operator means `value <op> …`."""

    when: str
    severity: Severity
    clear: str | None = None

    @field_validator("when", "clear")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from tocsin.expressions import compile_expression

        compile_expression(value)
        return value


class HistoryBaselineConfig(_Strict):
    window: Duration
    aggregate: Literal["avg", "median", "min", "max", "p95"] = "avg"
    exclude_recent: Duration = timedelta(0)
    min_samples: int = Field(default=1, ge=1)


class BaselineConfig(_Strict):
    """The value compared with a baseline: from a query on the same source, or stored history."""

    query: str | None = None
    queries: dict[str, str] | None = None
    history: HistoryBaselineConfig | None = None
    column: str = "baseline"
    compare: Literal["ratio", "percent"] = "ratio"

    @model_validator(mode="after")
    def _one_of(self) -> BaselineConfig:
        given = sum(x is not None for x in (self.query, self.queries, self.history))
        if given != 1:
            raise ValueError("give exactly one of 'query', 'queries' or 'history'")
        return self


class OnErrorConfig(_Strict):
    severity: Severity = "WARNING"
    after: int = Field(
        default=1, ge=1, description="consecutive failed evaluations before alerting"
    )


_PARAM = re.compile(r"^(now|today)\s*(?:([+-])\s*(\S+))?$")


class CheckConfig(_Strict):
    name: Name
    source: str
    schedule: ScheduleConfig
    query: str | None = None
    queries: dict[str, str] | None = None
    params: dict[str, str] = Field(default_factory=dict)
    value: str | None = None
    key: list[str] = Field(default_factory=list)
    conditions: list[ConditionConfig] = Field(min_length=1)
    for_: Duration = Field(default=timedelta(0), alias="for")
    active_hours: ActiveHoursConfig | None = None
    baseline: BaselineConfig | None = None
    no_data: Literal["ok", "error"] = "error"
    on_error: OnErrorConfig = Field(default_factory=OnErrorConfig)
    labels: dict[str, str] = Field(default_factory=dict)
    title: str | None = None
    message: str | None = None
    runbook: str | None = None
    notify: list[str] | None = None
    timezone: ZoneName = "UTC"
    enabled: bool = True

    @field_validator("params")
    @classmethod
    def _relative_times(cls, value: dict[str, str]) -> dict[str, str]:
        for name, spec in value.items():
            match = _PARAM.match(spec.strip())
            if not match:
                raise ValueError(f"{name}: {spec!r} is not like 'now', 'now-10m' or 'today-30d'")
            if match.group(3):
                parse_duration(match.group(3))
        return value

    @field_validator("title", "message")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            from tocsin.expressions import compile_template

            compile_template(value)
        return value

    @model_validator(mode="after")
    def _query(self) -> CheckConfig:
        if self.query is not None and self.queries is not None:
            raise ValueError("give 'query' or 'queries' (one per dialect), not both")
        return self

    def query_for(self, dialect: str) -> str | None:
        """The query text for a source dialect (sqlite, postgresql, …), `default` as fallback."""
        if self.queries is not None:
            return self.queries.get(dialect, self.queries.get("default"))
        return self.query


# --- on-call -------------------------------------------------------------------------------


_CONTACT_FORMS = {
    "email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an email address"),
    "phone": (re.compile(r"^\+[1-9]\d{6,14}$"), "a phone number in E.164 form like +15550100"),
    "slack": (re.compile(r"^[UW][A-Z0-9]{2,20}$"), "a Slack member id like U0123ABCD"),
    "discord": (re.compile(r"^\d{15,21}$"), "a Discord user id (digits, in quotes)"),
}


class UserConfig(_Strict):
    """A person an escalation step can page, with the address each channel kind needs."""

    name: str | None = Field(default=None, description="display name; the key when unset")
    email: str | None = None
    phone: str | None = None
    slack: str | None = None
    discord: str | None = None
    timezone: ZoneName = "UTC"

    @field_validator("email", "phone", "slack", "discord", mode="before")
    @classmethod
    def _contact(cls, value: object, info: ValidationInfo) -> object:
        form, what = _CONTACT_FORMS[str(info.field_name)]
        if info.field_name == "discord" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # an unquoted id is read as a number; its digits are the id
        if value is not None and not (isinstance(value, str) and form.match(value)):
            raise ValueError(f"{value!r} is not {what}")
        return value


_ROTATIONS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _rotation(value: object) -> timedelta:
    if isinstance(value, str) and value.strip() in _ROTATIONS:
        return _ROTATIONS[value.strip()]
    length = parse_duration(value)
    # PagerDuty's floor too: shorter turns are a typo, and would mean millions of shifts a year.
    if length < timedelta(hours=1):
        raise ValueError(f"{value!r} is shorter than the shortest rotation, 1h")
    return length


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1440:
        # YAML 1.1 reads an unquoted 9:30 as the base-60 integer 570.
        return time(value // 60, value % 60)
    match = _CLOCK_TIME.match(str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{value!r} is not a time of day like '09:00'")
    return time(int(match.group(1)), int(match.group(2)))


def _local_start(value: object) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time like 2026-11-02T09:00") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ValueError(f"{value!r} is not a date and time like 2026-11-02T09:00")
    if value.tzinfo is not None:
        raise ValueError(
            "give the local time without an offset; it is read in the schedule's timezone"
        )
    return value


Rotation = Annotated[timedelta, BeforeValidator(_rotation)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
LocalStart = Annotated[datetime, BeforeValidator(_local_start)]


class RestrictConfig(_DailyWindow):
    """Hours of each day a layer covers, in the schedule's zone; outside them lower layers show."""

    def bounds(self) -> tuple[time, time]:
        """Start and end of the daily window; an end at or before the start is the next day."""
        h1, m1, h2, m2 = self._parts()
        return time(h1 % 24, m1), time(h2 % 24, m2)


class LayerConfig(_Strict):
    """A rotation: participants take turns of `rotation`, the first turn starting at `start`.

    Turns are counted in the schedule's wall-clock time, so a 09:00 handoff stays at 09:00
    across a daylight-saving change (that day's turn is an hour longer or shorter).
    """

    name: Name
    start: LocalStart
    rotation: Rotation
    handoff: ClockTime | None = None
    participants: list[str] = Field(min_length=1)
    restrict: RestrictConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _start_at_handoff(cls, data: Any) -> Any:
        """A bare start date takes the handoff time, so `start: 2026-11-02` reads naturally."""
        if not isinstance(data, dict) or data.get("handoff") is None:
            return data
        start = data.get("start")
        is_date = isinstance(start, date) and not isinstance(start, datetime)
        if is_date or (isinstance(start, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", start)):
            try:
                handoff = _clock_time(data["handoff"])
            except ValueError:
                return data  # the field validator reports it
            return {
                **data,
                "start": datetime.combine(date.fromisoformat(str(start).strip()), handoff),
            }
        return data

    @model_validator(mode="after")
    def _handoff_matches_start(self) -> LayerConfig:
        if self.handoff is not None and self.handoff != self.start.time():
            raise ValueError(
                f"start {self.start.isoformat(timespec='minutes')} is not at the handoff time "
                f"{self.handoff.strftime('%H:%M')}; give a start at the handoff (or a bare date)"
            )
        return self


class OncallScheduleConfig(_Strict):
    """Layers in a zone; later layers override earlier ones wherever they have someone."""

    timezone: ZoneName = "UTC"
    layers: list[LayerConfig] = Field(min_length=1)
    backup: str | None = Field(default=None, description="the schedule that backs this one up")


# --- noise control -------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; write it like 2026-11-22T02:00Z")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class GroupingConfig(_Strict):
    """Alertmanager's grouping: first notice after `group_wait`, then at most one per
    `group_interval`, and a reminder every `repeat_interval` while members still fire."""

    by: list[str] = Field(default_factory=lambda: ["service", "check"], min_length=1)
    group_wait: Duration = timedelta(seconds=30)
    group_interval: Duration = timedelta(minutes=5)
    repeat_interval: Duration = timedelta(hours=4)


class InhibitRuleConfig(_Strict):
    """A firing alert matching `source_matchers` mutes alerts matching `target_matchers` that
    carry the same values for every label in `equal`."""

    source_matchers: Matchers = Field(min_length=1)
    target_matchers: Matchers = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class KnownIssueConfig(_Strict):
    id: Name
    matchers: Matchers = Field(default_factory=list)
    message_contains: str | None = None
    message_regex: str | None = None
    expires_at: AwareTime
    reason: str = Field(min_length=1)

    @field_validator("message_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _some_pattern(self) -> KnownIssueConfig:
        if not self.matchers and self.message_contains is None and self.message_regex is None:
            raise ValueError("give 'matchers', 'message_contains' or 'message_regex'")
        return self


class FlappingConfig(_Strict):
    """More than `threshold` state changes within `window` marks a series flapping; it is
    announced once and kept quiet until no change happened for `stable_for`."""

    threshold: int = Field(default=4, ge=1)
    window: Duration = timedelta(hours=1)
    stable_for: Duration = timedelta(minutes=30)


class RecurrenceFields(_Strict):
    every: str | None = Field(default=None, description="cron expression for recurring windows")
    duration: Duration | None = None
    timezone: ZoneName = "UTC"

    @model_validator(mode="after")
    def _recurrence(self) -> RecurrenceFields:
        if (self.every is None) != (self.duration is None):
            raise ValueError("'every' (a cron expression) and 'duration' go together")
        if self.every is not None and not croniter.is_valid(self.every):
            raise ValueError(f"{self.every!r} is not a valid cron expression")
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("'duration' must be longer than zero")
        return self


class SilenceSeedConfig(RecurrenceFields):
    """A silence written to the store when the worker starts (once: `id` keeps it unique)."""

    id: Name
    matchers: Matchers = Field(min_length=1)
    starts_at: AwareTime
    ends_at: AwareTime
    comment: str = Field(min_length=1)
    created_by: str = "config"


class MaintenanceSeedConfig(RecurrenceFields):
    id: Name
    title: str = Field(min_length=1)
    description: str = ""
    services: list[str] = Field(min_length=1)
    starts_at: AwareTime
    ends_at: AwareTime
    created_by: str = "config"


class StoreConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL


class WorkerConfig(_Strict):
    poll_interval: Duration = timedelta(seconds=1)
    lease: Duration = timedelta(minutes=2)
    heartbeat_interval: Duration = timedelta(seconds=15)
    concurrency: int = Field(default=4, ge=1, le=64)


class HeartbeatConfig(_Strict):
    """A ping URL a cron job calls (healthchecks.io's model): it is expected every period, or
    at each cron time in `timezone`, and missing it by more than `grace` raises an alert."""

    name: Name
    uuid: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
        description="the ping URL's key; generated once and kept in the store when absent",
    )
    every: Duration | None = None
    cron: str | None = None
    timezone: ZoneName = "UTC"
    grace: Duration = timedelta(hours=1)
    severity: Severity = "WARNING"
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> HeartbeatConfig:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' (like 1h) or 'cron' (like '0 3 * * *')")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError("'every' must be longer than zero")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"{self.cron!r} is not a valid cron expression")
        if self.grace < timedelta(0):
            raise ValueError("'grace' cannot be negative")
        return self


class ApiConfig(_Strict):
    """The HTTP API that `tocsin run` serves beside the workers."""

    listen: str = Field(default="127.0.0.1:8080", pattern=r"^\[?[0-9A-Za-z.:-]+\]?:\d{1,5}$")
    open_metrics: bool = Field(default=True, description="serve /metrics without a token")
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    rate_limit: float = Field(default=50.0, gt=0, description="requests per second per token")
    rate_burst: int = Field(default=500, ge=1)
    ack_link_ttl: Duration = timedelta(hours=24)
    keep_pings: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="pings kept per heartbeat, the newest (healthchecks.io keeps 100)",
    )


class TocsinConfig(_Strict):
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


# --- loading -------------------------------------------------------------------------------

Loc = tuple[str | int, ...]
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Loader:
    """Turns a YAML node tree into plain data, remembering the line of every path."""

    def __init__(self, filename: str, env: Mapping[str, str]) -> None:
        self.filename = filename
        self.env = env
        self.lines: dict[Loc, int] = {}
        self.problems: list[str] = []
        self.secrets: set[str] = set()
        # Builds scalars straight from their nodes (tags already resolved by compose).
        self._constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._constructor.construct_object(key_node, deep=True)
                if key in out:
                    self.problems.append(
                        f"{self.filename}:{key_node.start_mark.line + 1}: "
                        f"{format_loc((*loc, key))}: duplicate key"
                    )
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        value = self._constructor.construct_object(node, deep=True)
        if isinstance(value, str) and "${" in value:
            return self._interpolate(value, loc, node.start_mark.line + 1)
        return value

    def _interpolate(self, text: str, loc: Loc, line: int) -> str:
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.env:
                found = self.env[name]
            elif default is not None:
                found = default
            else:
                self.problems.append(
                    f"{self.filename}:{line}: {format_loc(loc)}: environment variable "
                    f"{name} is not set"
                )
                return ""
            if found:
                self.secrets.add(found)
            return found

        return _ENV.sub(replace, text)

    def line_of(self, loc: Loc) -> int:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top)"


def _data_loc(data: Any, loc: tuple[Any, ...]) -> Loc:
    """Follow pydantic's error location through the data, dropping union tags it inserts."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and part == "for_" and "for" in node:
            node = node["for"]
            path.append("for")
        elif isinstance(part, str) and (part.startswith("function-") or part in _UNION_TAGS):
            continue
        else:
            path.append(part)
            node = None
    return tuple(path)


_UNION_TAGS = {
    "sql",
    "http",
    "prometheus",
    "console",
    "discord",
    "slack",
    "pagerduty",
    "webhook",
    "twilio",
    "email",
    "str",
    "int",
    "float",
    "none",
}


def _describe(error: Any, loc: Loc) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        allowed = ", ".join(re.findall(r"'([^']*)'", expected)) or expected
        return f"{given!r} is not one of {allowed}"
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        hint = difflib.get_close_matches(str(name), _model_fields_for(loc), n=1)
        suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown field '{name}'{suffix}"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        expected = error.get("ctx", {}).get("expected_tags", "")
        return f"type {error.get('ctx', {}).get('tag')!r} is not one of {expected}"
    if kind == "union_tag_not_found":
        return "'type' is missing"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    return message


_FIELDS_BY_DEPTH: dict[str, type[BaseModel]] = {
    "store": StoreConfig,
    "worker": WorkerConfig,
    "schedule": ScheduleConfig,
    "active_hours": ActiveHoursConfig,
    "baseline": BaselineConfig,
    "history": HistoryBaselineConfig,
    "on_error": OnErrorConfig,
    "conditions": ConditionConfig,
    "layers": LayerConfig,
    "restrict": RestrictConfig,
    "heartbeats": HeartbeatConfig,
    "api": ApiConfig,
    "grouping": GroupingConfig,
    "inhibit_rules": InhibitRuleConfig,
    "known_issues": KnownIssueConfig,
    "flapping": FlappingConfig,
    "silences": SilenceSeedConfig,
    "maintenance": MaintenanceSeedConfig,
}


def _model_fields_for(loc: Loc) -> list[str]:
    """Field names that were allowed where an unknown key was found, for 'did you mean'."""
    names = [p for p in loc[:-1] if isinstance(p, str)]
    if not names:
        return list(TocsinConfig.model_fields)
    if names == ["checks"]:
        return [f.alias or n for n, f in CheckConfig.model_fields.items()]
    model = _FIELDS_BY_DEPTH.get(names[-1])
    if model is not None:
        return [f.alias or n for n, f in model.model_fields.items()]
    if names[0] == "users":
        return list(UserConfig.model_fields)
    if names[0] == "schedules" and len(names) == 2:
        return list(OncallScheduleConfig.model_fields)
    if names[0] == "sources":
        return sorted(
            {
                *SqlSourceConfig.model_fields,
                *HttpSourceConfig.model_fields,
                *PrometheusSourceConfig.model_fields,
            }
        )
    return []


def parse(
    text: str, filename: str = DEFAULT_CONFIG_PATH, env: Mapping[str, str] | None = None
) -> tuple[TocsinConfig, frozenset[str]]:
    """Validate configuration text; raise ConfigError listing every problem."""
    loader = _Loader(filename, os.environ if env is None else env)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{filename}:{line}: not valid YAML: {problem}"]) from None
    data = {} if node is None else loader.build(node, ())
    if not isinstance(data, dict):
        raise ConfigError([f"{filename}:1: the file must be a mapping of sections"])
    if loader.problems:
        raise ConfigError(loader.problems)
    try:
        config = TocsinConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = _data_loc(data, error["loc"])
            problems.append(
                f"{filename}:{loader.line_of(loc)}: {format_loc(loc)}: {_describe(error, loc)}"
            )
        raise ConfigError(problems) from None
    problems = _cross_check(config, loader, filename)
    if problems:
        raise ConfigError(problems)
    return config, frozenset(loader.secrets)


def _cross_check(config: TocsinConfig, loader: _Loader, filename: str) -> list[str]:
    """References between sections: sources, channels, unique names."""
    problems: list[str] = []

    def at(loc: Loc, message: str) -> None:
        problems.append(f"{filename}:{loader.line_of(loc)}: {format_loc(loc)}: {message}")

    beats: dict[str, int] = {}
    for i, beat in enumerate(config.heartbeats):
        if beat.name in beats:
            at(
                ("heartbeats", i, "name"),
                f"{beat.name!r} is already heartbeats[{beats[beat.name]}]",
            )
        beats.setdefault(beat.name, i)
    seen: dict[str, int] = {}
    for i, check in enumerate(config.checks):
        if check.name in seen:
            at(
                ("checks", i, "name"),
                f"{check.name!r} is already the name of checks[{seen[check.name]}]",
            )
        seen.setdefault(check.name, i)
        source = config.sources.get(check.source)
        if source is None:
            known = ", ".join(sorted(config.sources)) or "none are defined"
            at(("checks", i, "source"), f"source {check.source!r} does not exist (known: {known})")
        elif source.type in ("sql", "prometheus") and check.query is None and not check.queries:
            at(("checks", i), f"a {source.type} check needs 'query' or 'queries'")
        elif source.type == "http" and (check.query or check.queries):
            at(
                ("checks", i, "query"),
                "an http check takes no query; write conditions on its columns",
            )
        if (
            check.baseline
            and check.baseline.history is None
            and source is not None
            and source.type != "sql"
        ):
            at(("checks", i, "baseline"), "a baseline query needs an sql source; use 'history'")
        for name in check.notify or []:
            if name not in config.channels:
                known = ", ".join(sorted(config.channels)) or "none are defined"
                at(("checks", i, "notify"), f"channel {name!r} does not exist (known: {known})")
    _cross_check_routing(config, at)
    _cross_check_oncall(config, at)
    for section in ("known_issues", "silences", "maintenance"):
        ids: dict[str, int] = {}
        for i, item in enumerate(getattr(config, section)):
            if item.id in ids:
                at(
                    (section, i, "id"),
                    f"{item.id!r} is already the id of {section}[{ids[item.id]}]",
                )
            ids.setdefault(item.id, i)
    return problems


def _cross_check_routing(config: TocsinConfig, at: Callable[[Loc, str], None]) -> None:
    known_channels = ", ".join(sorted(config.channels)) or "none are defined"

    def channel(loc: Loc, name: str) -> None:
        if name not in config.channels:
            at(loc, f"channel {name!r} does not exist (known: {known_channels})")

    def route(node: RouteConfig, loc: Loc, digest: bool = False) -> None:
        digest = node.digest if node.digest is not None else digest
        for name in node.notify or []:
            channel((*loc, "notify"), name)
            spec = config.channels.get(name)
            if digest and spec is not None and spec.type not in ("email", "console"):
                at((*loc, "notify"), f"a digest goes by email or console, not {spec.type} ({name})")
        if node.escalation is not None and node.escalation not in config.escalation_policies:
            known = ", ".join(sorted(config.escalation_policies)) or "none are defined"
            at((*loc, "escalation"), f"policy {node.escalation!r} does not exist (known: {known})")
        for i, child in enumerate(node.routes):
            route(child, (*loc, "routes", i), digest)

    if config.routes is not None:
        route(config.routes, ("routes",))
    for name, policy in config.escalation_policies.items():
        for i, step in enumerate(policy.steps):
            loc: Loc = ("escalation_policies", name, "steps", i)
            for target in step.notify:
                if ":" not in target:
                    channel((*loc, "notify"), target)
                else:
                    from tocsin.errors import Invalid
                    from tocsin.oncall.service import check_target

                    try:
                        check_target(config, target)
                    except Invalid as exc:
                        at((*loc, "notify"), str(exc))
            for name_ in step.via or []:
                channel((*loc, "via"), name_)
    for name in config.notifications.fallback or []:
        channel(("notifications", "fallback"), name)


def _cross_check_oncall(config: TocsinConfig, at: Callable[[Loc, str], None]) -> None:
    """Schedules name known users and a known backup; layer names are unique per schedule."""
    users = ", ".join(sorted(config.users)) or "none are defined"
    for name, schedule in config.schedules.items():
        if schedule.backup is not None and schedule.backup not in config.schedules:
            known = ", ".join(sorted(config.schedules))
            at(
                ("schedules", name, "backup"),
                f"schedule {schedule.backup!r} does not exist (known: {known})",
            )
        elif schedule.backup == name:
            at(("schedules", name, "backup"), "a schedule cannot be its own backup")
        seen: set[str] = set()
        for i, layer in enumerate(schedule.layers):
            if layer.name in seen:
                at(("schedules", name, "layers", i, "name"), f"layer {layer.name!r} is repeated")
            seen.add(layer.name)
            for j, user in enumerate(layer.participants):
                if user not in config.users:
                    at(
                        ("schedules", name, "layers", i, "participants", j),
                        f"user {user!r} does not exist (known: {users})",
                    )


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate the configuration file; the store URL env var wins over the file."""
    environ = os.environ if env is None else env
    file = config_path(path, environ)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read the configuration: {exc.strerror}"]) from None
    config, secrets = parse(text, str(file), environ)
    url = environ.get("TOCSIN_DATABASE_URL") or config.store.url
    return LoadedConfig(config=config, path=file, database_url=url, secrets=secrets)


def config_path(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The configuration file to use: the given path, else $TOCSIN_CONFIG, else ./tocsin.yaml."""
    environ = os.environ if env is None else env
    return Path(path or environ.get("TOCSIN_CONFIG") or DEFAULT_CONFIG_PATH)


def database_url(env: Mapping[str, str] | None = None, fallback: str | None = None) -> str:
    environ = os.environ if env is None else env
    return environ.get("TOCSIN_DATABASE_URL") or fallback or DEFAULT_DATABASE_URL


def masked(loaded: LoadedConfig) -> dict[str, Any]:
    """The configuration as data with every secret and URL password replaced by '****'."""
    data = loaded.config.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    masked_data: dict[str, Any] = _mask(data, loaded.secrets)
    return masked_data


_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_SECRET_KEYS = re.compile(r"(?i)(password|secret|token|authorization|api[_-]?key)")


def _mask(node: Any, secrets: frozenset[str], key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _mask(v, secrets, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask(v, secrets, key) for v in node]
    if isinstance(node, str):
        if _SECRET_KEYS.search(key) and node:
            return "****"
        out = _URL_PASSWORD.sub(r"\1****\3", node)
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 4:
                out = out.replace(secret, "****")
        return out
    return node
