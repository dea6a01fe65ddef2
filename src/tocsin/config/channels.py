"""Where notifications go: `channels:` maps a name to one config class per channel type.

A new channel adds its class here and to `ChannelConfig`; nothing else in this package changes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from tocsin.config.fields import Duration, Strict


class ConsoleChannelConfig(Strict):
    type: Literal["console"]
    stream: Literal["stdout", "stderr"] = "stdout"


class _HttpChannel(Strict):
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


class EmailChannelConfig(Strict):
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
