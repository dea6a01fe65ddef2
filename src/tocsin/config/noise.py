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

    by: list[str] = Field(default_factory=lambda: ["service", "check"], min_length=1)
    group_wait: Duration = timedelta(seconds=30)
    group_interval: Duration = timedelta(minutes=5)
    repeat_interval: Duration = timedelta(hours=4)


class InhibitRuleConfig(Strict):
    """A firing alert matching `source_matchers` mutes alerts matching `target_matchers` that
    carry the same values for every label in `equal`."""

    source_matchers: Matchers = Field(min_length=1)
    target_matchers: Matchers = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class KnownIssueConfig(Strict):
    id: Name
    matchers: Matchers = Field(default_factory=list)
    message_contains: str | None = None
    message_regex: Regex | None = None
    expires_at: AwareTime
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _some_pattern(self) -> KnownIssueConfig:
        if not self.matchers and self.message_contains is None and self.message_regex is None:
            raise ValueError("give 'matchers', 'message_contains' or 'message_regex'")
        return self


class FlappingConfig(Strict):
    """More than `threshold` state changes within `window` marks a series flapping; it is
    announced once and kept quiet until no change happened for `stable_for`."""

    threshold: int = Field(default=4, ge=1)
    window: Duration = timedelta(hours=1)
    stable_for: Duration = timedelta(minutes=30)


class RecurrenceFields(Strict):
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
