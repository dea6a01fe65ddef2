"""Channels by type: the one place that knows which class serves which `type:`.

A channel class builds itself from its configuration with `from_config(name, config, env)`;
`CHANNELS` maps each configuration `type` to its class. A new channel is its module, its
config class in `config/channels.py`, one line here and its contract test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tocsin.config.model import TocsinConfig
from tocsin.egress import Egress
from tocsin.notify.base import Channel, Surroundings
from tocsin.notify.console import ConsoleChannel
from tocsin.notify.discord import DiscordChannel
from tocsin.notify.email import EmailChannel
from tocsin.notify.pagerduty import PagerDutyChannel
from tocsin.notify.slack import SlackChannel
from tocsin.notify.twilio import TwilioChannel
from tocsin.notify.webhook import WebhookChannel


class ChannelClass(Protocol):
    def from_config(self, name: str, config: Any, env: Surroundings) -> Channel: ...


CHANNELS: dict[str, ChannelClass] = {
    "console": ConsoleChannel,
    "discord": DiscordChannel,
    "email": EmailChannel,
    "pagerduty": PagerDutyChannel,
    "slack": SlackChannel,
    "twilio": TwilioChannel,
    "webhook": WebhookChannel,
}


def build_channels(
    config: TocsinConfig,
    console_write: Callable[[str], None] | None = None,
    client: Egress | None = None,
) -> dict[str, Channel]:
    """One channel object per configured channel; HTTP channels share one client."""
    http = client or Egress(config.egress)
    env = Surroundings(http, config.public_url.rstrip("/"), console_write)
    return {
        name: CHANNELS[spec.type].from_config(name, spec, env)
        for name, spec in config.channels.items()
    }
