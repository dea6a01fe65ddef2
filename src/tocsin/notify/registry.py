"""Channels by type: the one place that knows which class serves which `type:`."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tocsin.clock import SystemClock
from tocsin.config.channels import (
    ConsoleChannelConfig,
    DiscordChannelConfig,
    EmailChannelConfig,
    PagerDutyChannelConfig,
    SlackChannelConfig,
    TwilioChannelConfig,
    WebhookChannelConfig,
)
from tocsin.config.model import TocsinConfig
from tocsin.notify.base import Channel
from tocsin.notify.console import ConsoleChannel
from tocsin.notify.discord import DiscordChannel
from tocsin.notify.email import EmailChannel
from tocsin.notify.http import make_client
from tocsin.notify.pagerduty import PagerDutyChannel
from tocsin.notify.slack import SlackChannel
from tocsin.notify.twilio import TwilioChannel
from tocsin.notify.webhook import WebhookChannel


def build_channels(
    config: TocsinConfig,
    console_write: Callable[[str], None] | None = None,
    client: httpx.Client | None = None,
) -> dict[str, Channel]:
    """One channel object per configured channel; HTTP channels share one client."""
    http = client or make_client()
    public_url = config.public_url.rstrip("/")
    channels: dict[str, Channel] = {}
    for name, spec in config.channels.items():
        channel: Channel
        if isinstance(spec, ConsoleChannelConfig):
            channel = ConsoleChannel(name, spec.stream, console_write)
        elif isinstance(spec, DiscordChannelConfig):
            channel = DiscordChannel(name, spec, http, public_url)
        elif isinstance(spec, SlackChannelConfig):
            channel = SlackChannel(name, spec, http, public_url)
        elif isinstance(spec, PagerDutyChannelConfig):
            channel = PagerDutyChannel(name, spec, http, public_url)
        elif isinstance(spec, WebhookChannelConfig):
            # Signature timestamps are checked against the receiver's real clock, so they
            # come from the system clock even when Tocsin runs on virtual time.
            channel = WebhookChannel(name, spec, http, SystemClock())
        elif isinstance(spec, TwilioChannelConfig):
            channel = TwilioChannel(name, spec, http)
        elif isinstance(spec, EmailChannelConfig):
            channel = EmailChannel(name, spec, public_url)
        else:  # pragma: no cover - the config union and this list change together
            raise TypeError(f"no channel class for {type(spec).__name__}")
        channels[name] = channel
    return channels
