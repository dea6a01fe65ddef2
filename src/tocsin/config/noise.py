"""Keeping noise down: grouping, inhibit rules, known issues, flapping, and the silences and
maintenance windows the worker writes to the store when it starts."""

from __future__ import annotations

from datetime import timedelta

from croniter import croniter
from pydantic import Field, model_validator

from tocsin.config.fields import AwareTime, Duration, Matchers, Name, Regex, Strict, ZoneName


class GroupingConfig(Strict):
    """Alertmanager's grouping: first notice after `group_wait`, then at most one per
    `group_interval`, and a reminder every `repeat_interval` while members still fire."""

    by: list[str] = Field(
        default_factory=lambda: ["service", "check"],
        min_length=1,
        description="the labels whose values make a group",
    )
    group_wait: Duration = Field(
        default=timedelta(seconds=30),
        description="how long a new group waits for more alerts before its first notice",
    )
    group_interval: Duration = Field(
        default=timedelta(minutes=5),
        description="the least time between two notices of one group",
    )
    repeat_interval: Duration = Field(
        default=timedelta(hours=4),
        description="how often a group whose alerts still fire is notified again",
    )


class InhibitRuleConfig(Strict):
    """A firing alert matching `source_matchers` mutes alerts matching `target_matchers` that
    carry the same values for every label in `equal`."""

    source_matchers: Matchers = Field(
        min_length=1, description="matchers for the firing alert that mutes others"
    )
    target_matchers: Matchers = Field(min_length=1, description="matchers for the alerts muted")
    equal: list[str] = Field(
        default_factory=list,
        description="labels the muted alert must share with the muting one, like [service]",
    )


class KnownIssueConfig(Strict):
    """A known problem: matching alerts are recorded and counted, not notified, until it
    expires."""

    id: Name = Field(description="the known issue's id, unique")
    matchers: Matchers = Field(
        default_factory=list, description="matchers on the alert's labels, all of which hold"
    )
    message_contains: str | None = Field(
        default=None, description="text the alert's title or message contains (any case)"
    )
    message_regex: Regex | None = Field(
        default=None, description="a regular expression the title or message matches"
    )
    expires_at: AwareTime = Field(
        description="when it stops applying, with a zone, like 2026-12-01T00:00Z"
    )
    reason: str = Field(min_length=1, description="why these alerts are expected")

    @model_validator(mode="after")
    def _some_pattern(self) -> KnownIssueConfig:
        if not self.matchers and self.message_contains is None and self.message_regex is None:
            raise ValueError("give 'matchers', 'message_contains' or 'message_regex'")
        return self


class FlappingConfig(Strict):
    """More than `threshold` state changes within `window` marks a series flapping; it is
    announced once and kept quiet until no change happened for `stable_for`."""

    threshold: int = Field(
        default=4, ge=1, description="more state changes than this within `window` is flapping"
    )
    window: Duration = Field(
        default=timedelta(hours=1), description="the time in which state changes are counted"
    )
    stable_for: Duration = Field(
        default=timedelta(minutes=30),
        description="how long without a change before a flapping series speaks again",
    )


class RecurrenceFields(Strict):
    every: str | None = Field(
        default=None,
        description="recur at these times, a cron expression like '0 2 * * sun'",
    )
    duration: Duration | None = Field(
        default=None, description="with `every`: how long each time lasts"
    )
    timezone: ZoneName = Field(default="UTC", description="the time zone `every` is read in")

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

    id: Name = Field(description="the silence's id, unique")
    matchers: Matchers = Field(
        min_length=1, description="matchers on the alert's labels, all of which hold"
    )
    starts_at: AwareTime = Field(description="when it begins, with a zone")
    ends_at: AwareTime = Field(description="when it ends (the first time, when it recurs)")
    comment: str = Field(min_length=1, description="why")
    created_by: str = Field(default="config", description="who it is shown as made by")


class MaintenanceSeedConfig(RecurrenceFields):
    """A maintenance window written to the store when the worker starts (once: `id` keeps it
    unique): alerts of its services are recorded, not notified."""

    id: Name = Field(description="the window's id, unique")
    title: str = Field(min_length=1, description="what the maintenance is")
    description: str = Field(default="", description="more about it")
    services: list[str] = Field(
        min_length=1, description="the values of the `service` label it covers"
    )
    starts_at: AwareTime = Field(description="when it begins, with a zone")
    ends_at: AwareTime = Field(description="when it ends (the first time, when it recurs)")
    created_by: str = Field(default="config", description="who it is shown as made by")
    public: bool = Field(
        default=False, description="show it on the status page as scheduled maintenance"
    )
