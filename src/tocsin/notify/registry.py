"""Channels by type: the one place that knows which class serves which `type:`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tocsin.config import ChannelConfig, ConsoleChannelConfig
from tocsin.notify.base import Channel
from tocsin.notify.console import ConsoleChannel


def build_channels(
    configs: Mapping[str, ChannelConfig], console_write: Callable[[str], None] | None = None
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for name, config in configs.items():
        if isinstance(config, ConsoleChannelConfig):
            channels[name] = ConsoleChannel(name, config.stream, console_write)
    return channels
