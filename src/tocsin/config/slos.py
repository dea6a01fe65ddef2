"""What a service-level objective is (OpenSLO's vocabulary): a service, an indicator (the time
a check's, a heartbeat's or a service's alerts were open, or a check's values under a latency
threshold), an objective like 99.9 %, a window (rolling like 30d, or the calendar month), and
whether its error budget's burn rate raises alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from tocsin.config.fields import Duration, Name, Strict, ZoneName

Severity = Literal["CRITICAL", "HIGH", "WARNING", "INFO"]


def _down() -> list[Severity]:
    return ["CRITICAL", "HIGH"]


class AvailabilitySliConfig(Strict):
    """Bad time is time when an alert of the check (or heartbeat, or else of any alert
    labelled with the SLO's service) was open at one of `severities`; good is the rest."""

    type: Literal["availability"] = Field(description="`availability`")
    check: str | None = Field(default=None, description="the check whose alerts count")
    heartbeat: str | None = Field(default=None, description="the heartbeat whose alerts count")
    severities: list[Severity] = Field(
        default_factory=_down,
        description="alerts at these severities count as the service being down",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> AvailabilitySliConfig:
        if self.check is not None and self.heartbeat is not None:
            raise ValueError("give 'check' or 'heartbeat', not both")
        return self


class LatencySliConfig(Strict):
    """Each stored value of the check is an event, good when at most `threshold` (a latency
    in the check's unit, like milliseconds)."""

    type: Literal["latency"] = Field(description="`latency`")
    check: str = Field(description="the check whose values count")
    threshold: float = Field(description="a value at most this is good, like 500 (ms)")


SliConfig = Annotated[AvailabilitySliConfig | LatencySliConfig, Field(discriminator="type")]


class SloConfig(Strict):
    """An objective over a window, its error budget and its burn-rate alerts."""

    service: Name = Field(description="the service it is about (the `service` label of its alerts)")
    description: str | None = Field(default=None, description="a line shown with it")
    sli: SliConfig = Field(description="what is good and what is bad")
    objective: float = Field(
        gt=0, lt=100, description="the percentage of good time or events promised, like 99.9"
    )
    window: Literal["month"] | Duration = Field(
        default=timedelta(days=30),
        description="rolling like 30d or 28d, or `month` (the calendar month in `timezone`)",
    )
    timezone: ZoneName = Field(default="UTC", description="where a calendar month begins")
    warning: float = Field(
        default=25.0,
        ge=0,
        le=100,
        description="the status is Warning when this percentage of the budget or less is left",
    )
    burn_alerts: bool = Field(
        default=True,
        description="raise the SRE workbook's burn-rate alerts: CRITICAL when 1h and 5m burn "
        "at 14.4x or 6h and 30m at 6x; WARNING when 1d and 2h burn at 3x or 3d and 6h at 1x",
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="more labels on its burn-rate alerts, for routing"
    )

    @model_validator(mode="after")
    def _window(self) -> SloConfig:
        if isinstance(self.window, timedelta) and not (
            timedelta(hours=1) <= self.window <= timedelta(days=400)
        ):
            raise ValueError("window: a rolling window is between 1h and 400d")
        return self

    @property
    def budget(self) -> float:
        """The share of time or events that may be bad, like 0.001 for 99.9 %."""
        return 1 - self.objective / 100
