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


class ActiveHoursConfig(DailyWindow):
    """A daily window in an explicit zone; `between: "06:00-23:00"` (end may wrap past midnight)."""

    timezone: ZoneName

    def bounds(self) -> tuple[time, time]:
        h1, m1, h2, m2 = self._parts()
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        return time(h1 % 24, m1), end


class ConditionConfig(Strict):
    """One rung of the ladder: `when` is an expression; a leading operator means `value <op> …`."""

    when: str
    severity: Severity
    clear: str | None = None

    @field_validator("when", "clear")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compile_expression(value)
        return value


class HistoryBaselineConfig(Strict):
    window: Duration
    aggregate: Literal["avg", "median", "min", "max", "p95"] = "avg"
    exclude_recent: Duration = timedelta(0)
    min_samples: int = Field(default=1, ge=1)


class BaselineConfig(Strict):
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


class OnErrorConfig(Strict):
    severity: Severity = "WARNING"
    after: int = Field(
        default=1, ge=1, description="consecutive failed evaluations before alerting"
    )


_PARAM = re.compile(r"^(now|today)\s*(?:([+-])\s*(\S+))?$")


class CheckConfig(Strict):
    name: Name
    source: str
    schedule: ScheduleConfig
    query: str | None = None
    queries: dict[str, str] | None = None
    params: dict[str, str] = Field(default_factory=dict)
    value: str | None = None
    key: list[str] = Field(default_factory=list)
    conditions: list[ConditionConfig] = Field(default_factory=list)
    firing_column: str | None = None
    severity_column: str | None = None
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
