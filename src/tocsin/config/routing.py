"""Who hears of an alert: the route tree, escalation policies, and how notifications go out."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from tocsin.config.fields import Duration, Matchers, Strict, ZoneName


class RouteConfig(Strict):
    """One node of the route tree (Alertmanager's semantics). A child is tried in order when
    its parent matches; the first matching child wins unless it says `continue: true`. Unset
    `notify`, `escalation` and `digest` are inherited from the parent."""

    matchers: Matchers = Field(
        default_factory=list,
        description='Alertmanager matchers on the alert\'s labels, like service="payments" or '
        'severity=~"CRITICAL|HIGH"; all must hold (none: every alert)',
    )
    notify: list[str] | None = Field(
        default=None, description="the channels to tell (inherited from the parent when unset)"
    )
    escalation: str | None = Field(
        default=None,
        description="the escalation policy to start (inherited from the parent when unset)",
    )
    digest: bool | None = Field(
        default=None, description="send INFO-style: in the daily digest instead of at once"
    )
    incident: Literal["auto"] | None = Field(
        default=None,
        description="`auto`: an alert taking this route declares an incident, or joins the "
        "open incident of its group key (inherited from the parent when unset)",
    )
    continue_: bool = Field(
        default=False,
        alias="continue",
        description="after this route matches, go on trying its later siblings",
    )
    routes: list[RouteConfig] = Field(
        default_factory=list, description="child routes, tried in order when this one matches"
    )


class EscalationStepConfig(Strict):
    """One step: whom to notify, once the alert has gone unacknowledged for `after`."""

    after: Duration = Field(
        default=timedelta(0), description="how long after the alert fired this step is due"
    )
    notify: list[str] = Field(
        min_length=1, description="channel names, user:NAME, schedule:NAME or schedule:NAME:backup"
    )
    via: list[str] | None = Field(
        default=None, description="channels that reach users and schedules (default: all that can)"
    )


class EscalationPolicyConfig(Strict):
    """Steps that page further until someone acknowledges; copied onto an alert when it
    fires, so editing the policy never changes an escalation in flight."""

    steps: list[EscalationStepConfig] = Field(
        min_length=1, description="the steps, in order of `after`"
    )
    repeat: Duration | None = Field(
        default=None, description="re-run the last step this often until acknowledged"
    )
    repeat_limit: int = Field(
        default=10, ge=1, le=1000, description="the most times the last step is repeated"
    )

    @model_validator(mode="after")
    def _ordered(self) -> EscalationPolicyConfig:
        for before, step in zip(self.steps, self.steps[1:], strict=False):
            if step.after < before.after:
                raise ValueError("steps must be in order of 'after'")
        if self.repeat is not None and self.repeat <= timedelta(0):
            raise ValueError("repeat must be longer than 0s")
        return self


class NotificationsConfig(Strict):
    """How notifications go out."""

    fallback: list[str] | None = Field(
        default=None,
        description="where 'a notification failed for good' goes (default: every other channel)",
    )
    digest_at: str = Field(
        default="08:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="when the daily digest of INFO alerts goes out, as HH:MM",
    )
    digest_timezone: ZoneName = Field(default="UTC", description="the time zone of `digest_at`")
    concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="deliveries in flight at once (one alert's notifications to one channel "
        "still go in order)",
    )
