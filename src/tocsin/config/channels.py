"""Where notifications go: `channels:` maps a name to one config class per channel type.

A new channel adds its class here and to `ChannelConfig`; nothing else in this package changes.
Each class says what the rest of Tocsin needs to know about its channel without importing it:
which field of a user's contact it addresses a person by (`contact`), and the targets one
notification fans out to (`targets`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from tocsin.config.fields import Duration, Strict

# The fields of a user's contact (`users:` in config/oncall.py, `oncall.service.Contact`) a
# channel can address someone by; `user` is the user's key, a name to show or route on.
ContactField = Literal["user", "email", "phone", "slack", "discord"]


class _Channel(Strict):
    # None: the channel cannot address one person (PagerDuty pages its own service's on-call).
    contact: ClassVar[ContactField | None] = None

    def reaches_a_person(self) -> bool:
        """Whether an escalation step paging a user or schedule uses this channel when the
        step names no `via` channels: it has an address of the person's own, not just a name."""
        return self.contact not in (None, "user")

    def targets(self) -> list[str | None]:
        """The targets one notification to this channel is written for, a row each (None: the
        channel's own configured destination), so a retry to one never repeats the others."""
        return [None]


class ConsoleChannelConfig(_Channel):
    """Prints each notification on Tocsin's own output: for trying things out and for logs."""

    type: Literal["console"] = Field(description="`console`")
    stream: Literal["stdout", "stderr"] = Field(
        default="stdout", description="where the notifications are printed"
    )
    contact: ClassVar[ContactField | None] = "user"


class _HttpChannel(_Channel):
    timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="how long one delivery may take before it is retried",
    )


class DiscordChannelConfig(_HttpChannel):
    """A Discord channel, through one of its webhooks."""

    type: Literal["discord"] = Field(description="`discord`")
    contact: ClassVar[ContactField | None] = "discord"
    url: str = Field(description="the webhook URL (a secret: use ${VAR})")
    footer: str = Field(default="Tocsin", description="the text at the foot of every message")
    # Discord has no @channel: CRITICAL mentions @here, or a role such as "<@&123456789>".
    critical_mention: str = Field(
        default="@here",
        description="who a CRITICAL alert mentions: @here, @everyone or a role as <@&ROLE_ID>",
    )


class SlackChannelConfig(_HttpChannel):
    """A Slack channel, through an incoming webhook."""

    type: Literal["slack"] = Field(description="`slack`")
    contact: ClassVar[ContactField | None] = "slack"
    url: str = Field(description="the incoming-webhook URL (a secret: use ${VAR})")


class PagerDutyChannelConfig(_HttpChannel):
    """A PagerDuty service, through the Events API v2: one alert is one incident, which
    acknowledging and resolving in Tocsin acknowledge and resolve."""

    type: Literal["pagerduty"] = Field(description="`pagerduty`")
    routing_key: str = Field(
        description="the service's integration (routing) key (a secret: use ${VAR})"
    )
    url: str = Field(
        default="https://events.pagerduty.com/v2/enqueue",
        description="the Events API endpoint (change it only for a proxy or a test server)",
    )


class WebhookChannelConfig(_HttpChannel):
    """Any HTTP endpoint: each notification is POSTed as JSON with an Idempotency-Key."""

    type: Literal["webhook"] = Field(description="`webhook`")
    contact: ClassVar[ContactField | None] = "user"
    url: str = Field(description="where to POST the notifications")
    secret: str | None = Field(
        default=None,
        description="signs every body with HMAC-SHA256 in X-Tocsin-Signature (use ${VAR})",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra request headers (use ${VAR} for tokens)"
    )


class TwilioChannelConfig(_HttpChannel):
    """Text messages or phone calls through Twilio, one per number."""

    type: Literal["twilio"] = Field(description="`twilio`")
    mode: Literal["sms", "voice"] = Field(
        default="sms", description="send a text message, or call and read the alert out"
    )
    account_sid: str = Field(description="the Twilio account SID")
    auth_token: str = Field(description="the account's auth token (a secret: use ${VAR})")
    from_number: str = Field(description="the Twilio number to send from, like +15550100")
    to: list[str] = Field(
        min_length=1,
        description="the numbers to reach when the alert does not name people, like +15550123",
    )
    url: str = Field(
        default="https://api.twilio.com",
        description="the API's base URL (change it only for a proxy or a test server)",
    )
    contact: ClassVar[ContactField | None] = "phone"

    def targets(self) -> list[str | None]:
        return list(self.to)  # one row per number: a failing number is retried alone


class EmailChannelConfig(_Channel):
    """Email through an SMTP server."""

    type: Literal["email"] = Field(description="`email`")
    contact: ClassVar[ContactField | None] = "email"
    host: str = Field(description="the SMTP server's host name")
    port: int = Field(default=587, gt=0, lt=65536, description="the SMTP server's port")
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (port 587), tls from the first byte (port 465), or none",
    )
    username: str | None = Field(default=None, description="the SMTP login, if it needs one")
    password: str | None = Field(
        default=None, description="the SMTP password (a secret: use ${VAR})"
    )
    from_address: str = Field(description="the sender's address")
    to: list[str] = Field(
        min_length=1, description="the addresses to write to when the alert does not name people"
    )
    timeout: Duration = Field(
        default=timedelta(seconds=15),
        description="how long one delivery may take before it is retried",
    )


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
