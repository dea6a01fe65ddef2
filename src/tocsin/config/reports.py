"""What a report is: when it runs, its sections (read-only SQL with thresholds, Tocsin's own
figures), where it is posted and who is mentioned when a section is CRITICAL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal, get_args

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from tocsin.config.checks import PARAM
from tocsin.config.fields import Duration, Name, Strict, ZoneName, parse_duration
from tocsin.expressions import compile_expression

Figure = Literal[
    "alerts",
    "mtta",
    "mttr",
    "detect",
    "incidents",
    "escalations",
    "notifications",
    "night_pages",
    "quality",
]
FIGURES: tuple[Figure, ...] = get_args(Figure)


class ReportScheduleConfig(Strict):
    """When a report runs: the times of a cron expression in a zone, optionally only on the
    first business day of each month (Monday to Friday, not one of `holidays`)."""

    cron: str = Field(description="the times it runs, like '0 9 * * *' (09:00 every day)")
    timezone: ZoneName = Field(default="UTC", description="the time zone `cron` is read in")
    only: Literal["first_business_day"] | None = Field(
        default=None,
        description="first_business_day: of the cron's times, keep those on the month's first "
        "business day",
    )
    holidays: list[date] = Field(
        default_factory=list, description="days that are not business days, like 2027-01-01"
    )

    @field_validator("cron")
    @classmethod
    def _valid(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        return value


class ThresholdsConfig(Strict):
    """Expressions over a row's columns; the first that holds on any row marks the section."""

    critical: str | None = Field(
        default=None, description="the section is CRITICAL when this holds, like 'failure_rate > 5'"
    )
    warning: str | None = Field(
        default=None, description="the section is WARNING when this holds (and not CRITICAL)"
    )

    @field_validator("critical", "warning")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_expression(value)
        return value


class QuerySectionConfig(Strict):
    """Rows of a read-only query on a source, shown as a table."""

    type: Literal["query"] = Field(description="`query`")
    title: str = Field(description="the section's heading")
    source: str = Field(description="the source it reads, a name under `sources`")
    query: str | None = Field(default=None, description="the SQL, run read-only")
    queries: dict[str, str] | None = Field(
        default=None, description="one query per dialect (sqlite, postgresql, default)"
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        description="query parameters as times from the run's time: now, now-24h, today, "
        "today-7d (`today` begins in the schedule's zone; never NOW() in the SQL)",
    )
    thresholds: ThresholdsConfig = Field(
        default_factory=ThresholdsConfig, description="when the section is CRITICAL or WARNING"
    )
    note: str | None = Field(default=None, description="a line shown under the heading")

    @field_validator("params")
    @classmethod
    def _relative_times(cls, value: dict[str, str]) -> dict[str, str]:
        for name, spec in value.items():
            match = PARAM.match(spec.strip())
            if not match:
                raise ValueError(f"{name}: {spec!r} is not like 'now', 'now-24h' or 'today-7d'")
            if match.group(3):
                parse_duration(match.group(3))
        return value

    @model_validator(mode="after")
    def _one_query(self) -> QuerySectionConfig:
        if (self.query is None) == (self.queries is None):
            raise ValueError("give 'query' or 'queries' (one per dialect)")
        return self

    def query_for(self, dialect: str) -> str | None:
        if self.queries is not None:
            return self.queries.get(dialect, self.queries.get("default"))
        return self.query


class FiguresSectionConfig(Strict):
    """Tocsin's own figures over the window before the run: alerts, MTTA/MTTR and the rest."""

    type: Literal["figures"] = Field(description="`figures`")
    title: str = Field(default="Tocsin's figures", description="the section's heading")
    window: Duration = Field(
        default=timedelta(days=1), description="how far back from the run, like 24h or 30d"
    )
    figures: list[Figure] = Field(
        default_factory=lambda: list(FIGURES), description="which figures, in order"
    )
    ack_target: Duration = Field(
        default=timedelta(minutes=5),
        description="acknowledged within this counts as on target (reference 000 6.2.1)",
    )
    fix_target: Duration = Field(
        default=timedelta(hours=1), description="resolved within this counts as on target"
    )
    detect_target: Duration = Field(
        default=timedelta(minutes=5),
        description="an alert raised within this of its check first seeing the condition is on "
        "target",
    )
    timezone: ZoneName = Field(
        default="UTC", description="where 'night' (22:00-08:00) is read for pages at night"
    )


class SlosSectionConfig(Strict):
    """SLOs as of the run: each one's budget left and status, with its burn-down chart. The
    section is WARNING when a budget is at Warning, CRITICAL when one is exceeded."""

    type: Literal["slos"] = Field(description="`slos`")
    title: str = Field(default="SLOs and error budgets", description="the section's heading")
    slos: list[Name] | None = Field(
        default=None, description="which SLOs (under `slos`), in order (default: every one)"
    )
    charts: bool = Field(default=True, description="draw each SLO's error-budget burn-down")


SectionConfig = Annotated[
    QuerySectionConfig | FiguresSectionConfig | SlosSectionConfig, Field(discriminator="type")
]


class ReportConfig(Strict):
    """A scheduled report: its sections, where it goes, and who is mentioned when bad."""

    title: str | None = Field(default=None, description="the heading (default: the name)")
    schedule: ReportScheduleConfig = Field(description="when it runs")
    sections: list[SectionConfig] = Field(min_length=1, description="what it shows, in order")
    channels: list[Name] = Field(
        default_factory=list, description="channels it is posted to, by name"
    )
    mention: str | dict[Name, str] | None = Field(
        default=None,
        description="who is mentioned when a section is CRITICAL: one text for every channel, "
        "or one per channel, like {ops-discord: '<@&123…>', ops-slack: '<!subteam^S01…>'}",
    )
    enabled: bool = Field(default=True, description="false: it never runs on its schedule")

    def mention_for(self, channel: str) -> str | None:
        if isinstance(self.mention, dict):
            return self.mention.get(channel)
        return self.mention


class RetentionConfig(Strict):
    """How long the store keeps what piles up (reference 000 §6.4.2 keeps 90 days of logs and
    metrics); pruned once an hour across instances, in small batches."""

    raw: Duration = Field(
        default=timedelta(days=90),
        description="check evaluations and their stored values are kept this long",
    )
    report_runs: Duration = Field(
        default=timedelta(days=400),
        description="finished report runs (their content, figures and charts) are kept this long",
    )
    batch: int = Field(
        default=2000,
        ge=10,
        le=100_000,
        description="rows deleted per transaction, so pruning never holds the writer for long",
    )

    @field_validator("raw", "report_runs")
    @classmethod
    def _at_least_a_day(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError("keep at least 1d")
        return value
