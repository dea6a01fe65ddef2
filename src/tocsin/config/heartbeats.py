"""Heartbeats: ping URLs that cron jobs call, and how late a ping may be before it alerts."""

from __future__ import annotations

from datetime import timedelta

from croniter import croniter
from pydantic import Field, model_validator

from tocsin.config.fields import Duration, Name, Severity, Strict, ZoneName


class HeartbeatConfig(Strict):
    """A ping URL a cron job calls (healthchecks.io's model): it is expected every period, or
    at each cron time in `timezone`, and missing it by more than `grace` raises an alert."""

    name: Name = Field(description="the heartbeat's name, unique; its alert carries it")
    uuid: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
        description="the ping URL's key; generated once and kept in the store when absent",
    )
    every: Duration | None = Field(
        default=None, description="a ping is expected this often, like 1h (or `cron`)"
    )
    cron: str | None = Field(
        default=None, description="a ping is expected at these times, like '0 3 * * *'"
    )
    timezone: ZoneName = Field(default="UTC", description="the time zone `cron` is read in")
    grace: Duration = Field(
        default=timedelta(hours=1),
        description="how late a ping may be before the heartbeat alerts",
    )
    severity: Severity = Field(default="WARNING", description="the missed-ping alert's severity")
    labels: dict[str, str] = Field(
        default_factory=dict, description="labels on its alert; routes and silences match them"
    )

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
