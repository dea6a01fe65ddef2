"""What a check is: its source and query, schedule, condition ladder, baseline and labels."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Literal

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from tocsin.config.fields import (
    DailyWindow,
    Duration,
    Name,
    Severity,
    Strict,
    ZoneName,
    parse_duration,
)
from tocsin.expressions import compile_expression, compile_template


class ScheduleConfig(Strict):
    """When a check runs: every so often, or at the times of a cron expression."""

    every: Duration | None = Field(
        default=None, description="run this often, like 1m (give this or `cron`)"
    )
    cron: str | None = Field(
        default=None,
        description="run at these times, like '*/5 * * * *' or '0 9 * * 1-5' (or `every`)",
    )
    timezone: ZoneName = Field(default="UTC", description="the time zone `cron` is read in")

    @model_validator(mode="after")
    def _one_of(self) -> ScheduleConfig:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' (like 5m) or 'cron' (like '*/5 * * * *')")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError("'every' must be longer than zero")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"{self.cron!r} is not a valid cron expression")
        return self


class ActiveHoursConfig(DailyWindow):
    """A daily window in an explicit zone; `between: "06:00-23:00"` (end may wrap past midnight)."""

    timezone: ZoneName = Field(description="the time zone of `between`, like America/New_York")

    def bounds(self) -> tuple[time, time]:
        h1, m1, h2, m2 = self._parts()
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        return time(h1 % 24, m1), end


class ConditionConfig(Strict):
    """One rung of the ladder: `when` is an expression; a leading operator means `value <op> …`."""

    when: str = Field(
        description="an expression over the row's columns, like 'error_count > 10', or a "
        "comparison with the value, like '>= 10'"
    )
    severity: Severity = Field(description="the alert's severity while this rung holds")
    clear: str | None = Field(
        default=None,
        description="once fired, the rung holds until this is true, like '< 5' (hysteresis)",
    )

    @field_validator("when", "clear")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compile_expression(value)
        return value


class HistoryBaselineConfig(Strict):
    """A baseline from the check's own stored values."""

    window: Duration = Field(description="how far back to look, like 7d")
    aggregate: Literal["avg", "median", "min", "max", "p95"] = Field(
        default="avg", description="how the values in the window become one baseline"
    )
    exclude_recent: Duration = Field(
        default=timedelta(0),
        description="leave out the newest values, like 1h, so a slow rise does not raise its "
        "own baseline",
    )
    min_samples: int = Field(
        default=1, ge=1, description="fewer values than this is no baseline (nothing to compare)"
    )


class BaselineConfig(Strict):
    """The value compared with a baseline: from a query on the same source, or stored history."""

    query: str | None = Field(
        default=None, description="a query on the check's source returning the baseline"
    )
    queries: dict[str, str] | None = Field(
        default=None, description="the baseline query per dialect (sqlite, postgresql, default)"
    )
    history: HistoryBaselineConfig | None = Field(
        default=None, description="take the baseline from the check's stored values instead"
    )
    column: str = Field(
        default="baseline", description="the baseline query's column holding the baseline"
    )
    compare: Literal["ratio", "percent"] = Field(
        default="ratio",
        description="the value becomes current / baseline (ratio) or the change in percent",
    )

    @model_validator(mode="after")
    def _one_of(self) -> BaselineConfig:
        given = sum(x is not None for x in (self.query, self.queries, self.history))
        if given != 1:
            raise ValueError("give exactly one of 'query', 'queries' or 'history'")
        return self


class OnErrorConfig(Strict):
    """The alert "Check X cannot run" that a failing check raises."""

    severity: Severity = Field(default="WARNING", description="that alert's severity")
    after: int = Field(
        default=1, ge=1, description="consecutive failed evaluations before alerting"
    )


PARAM = re.compile(r"^(now|today)\s*(?:([+-])\s*(\S+))?$")


class CheckConfig(Strict):
    """A scheduled rule over a source: its query, and the ladder of conditions (or the
    query's own columns) that say whether it fires and how badly."""

    name: Name = Field(description="the check's name, unique; alerts and the CLI use it")
    source: str = Field(description="the source it reads, a name under `sources`")
    schedule: ScheduleConfig = Field(description="when it runs")
    query: str | None = Field(
        default=None,
        description="SQL or PromQL run on the source, with :name parameters from `params`",
    )
    queries: dict[str, str] | None = Field(
        default=None,
        description="one query per dialect (sqlite, postgresql, default) where SQL differs",
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        description="query parameters as times from Tocsin's clock: now, now-10m, today, "
        "today-30d (never NOW() in the SQL)",
    )
    value: str | None = Field(
        default=None,
        description="the column that conditions like '>= 10' compare (default: `value`, or "
        "the only numeric column)",
    )
    key: list[str] = Field(
        default_factory=list,
        description="columns that make one alert per row (their values become labels)",
    )
    conditions: list[ConditionConfig] = Field(
        default_factory=list,
        description="the ladder: the first rung that holds gives the severity; none: all clear",
    )
    firing_column: str | None = Field(
        default=None,
        description="instead of `conditions`: the true/false column saying whether the row "
        "fires, like is_alert",
    )
    severity_column: str | None = Field(
        default=None,
        description="with `firing_column`: the column naming the severity (CRITICAL, HIGH, "
        "WARNING, INFO, or SEV-1…3, P1…3)",
    )
    for_: Duration = Field(
        default=timedelta(0),
        alias="for",
        description="how long a condition must hold before the alert fires",
    )
    active_hours: ActiveHoursConfig | None = Field(
        default=None,
        description="run only within these hours; outside them its alerts resolve",
    )
    baseline: BaselineConfig | None = Field(
        default=None, description="compare the value with a baseline instead of as it is"
    )
    no_data: Literal["ok", "error"] = Field(
        default="error",
        description="what no rows or a NULL value mean: all clear (ok) or a failed run (error)",
    )
    on_error: OnErrorConfig = Field(
        default_factory=OnErrorConfig, description="the alert raised when the check cannot run"
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="labels on its alerts, like service: payments; routes and silences match them",
    )
    title: str | None = Field(
        default=None,
        description="the alert's title, a template over the row's columns (default: the name)",
    )
    message: str | None = Field(
        default=None, description="the alert's message, a template over the row's columns"
    )
    runbook: str | None = Field(
        default=None, description="the runbook its notifications link to, by id"
    )
    notify: list[str] | None = Field(
        default=None, description="channels that replace what the routes would choose"
    )
    timezone: ZoneName = Field(
        default="UTC", description="the time zone in which `today` in `params` begins"
    )
    enabled: bool = Field(default=True, description="false: the check never runs")

    @field_validator("params")
    @classmethod
    def _relative_times(cls, value: dict[str, str]) -> dict[str, str]:
        for name, spec in value.items():
            match = PARAM.match(spec.strip())
            if not match:
                raise ValueError(f"{name}: {spec!r} is not like 'now', 'now-10m' or 'today-30d'")
            if match.group(3):
                parse_duration(match.group(3))
        return value

    @field_validator("title", "message")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            compile_template(value)
        return value

    @model_validator(mode="after")
    def _query(self) -> CheckConfig:
        if self.query is not None and self.queries is not None:
            raise ValueError("give 'query' or 'queries' (one per dialect), not both")
        return self

    @model_validator(mode="after")
    def _verdict(self) -> CheckConfig:
        """Either the ladder decides, or the row's own columns do (reference 000 §6.2.2)."""
        columns = (self.firing_column, self.severity_column)
        if None not in columns:
            if self.conditions:
                raise ValueError(
                    "give 'conditions' or 'firing_column', not both: with 'firing_column' "
                    "the query decides"
                )
            if self.baseline is not None:
                raise ValueError(
                    "a baseline is compared by 'conditions'; with 'firing_column' the query decides"
                )
        elif columns != (None, None):
            raise ValueError("'firing_column' and 'severity_column' go together")
        elif not self.conditions:
            raise ValueError(
                "give 'conditions', or 'firing_column' and 'severity_column' when the query "
                "itself says whether it fires and how badly"
            )
        return self

    def query_for(self, dialect: str) -> str | None:
        """The query text for a source dialect (sqlite, postgresql, …), `default` as fallback."""
        if self.queries is not None:
            return self.queries.get(dialect, self.queries.get("default"))
        return self.query
