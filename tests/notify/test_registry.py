"""The registry: every channel type the configuration accepts has a class that builds itself."""

from __future__ import annotations

import typing

from tocsin.config.channels import ChannelConfig
from tocsin.config.loader import parse
from tocsin.notify.registry import CHANNELS, build_channels

EVERY_KIND = """
channels:
  console: {type: console}
  discord: {type: discord, url: "https://discord.example/api/webhooks/1/t"}
  email: {type: email, host: mail.example, from_address: a@example.com, to: [b@example.com]}
  pagerduty: {type: pagerduty, routing_key: R0UTING}
  slack: {type: slack, url: "https://hooks.slack.example/services/T/B/x"}
  twilio: {type: twilio, account_sid: AC1, auth_token: t, from_number: "+15550000000",
           to: ["+15550100001", "+15550100002"]}
  webhook: {type: webhook, url: "https://receiver.example/hook"}
"""


def config_types() -> set[str]:
    union = typing.get_args(ChannelConfig)[0]
    return {
        typing.get_args(cls.model_fields["type"].annotation)[0] for cls in typing.get_args(union)
    }


def test_every_channel_type_in_the_configuration_has_a_class() -> None:
    assert config_types() == set(CHANNELS)


def test_each_configured_channel_is_built_by_the_class_of_its_type() -> None:
    config, _ = parse(EVERY_KIND, "test.yaml", env={})
    assert set(config.channels) == config_types()  # the example covers every type

    channels = build_channels(config)

    for name, channel in channels.items():
        assert type(channel) is CHANNELS[config.channels[name].type]
        assert channel.name == name


def test_each_channel_config_says_whom_it_can_page_and_its_targets() -> None:
    config, _ = parse(EVERY_KIND, "test.yaml", env={})
    personal = {name for name, spec in config.channels.items() if spec.reaches_a_person()}

    assert personal == {"discord", "email", "slack", "twilio"}
    assert config.channels["twilio"].targets() == ["+15550100001", "+15550100002"]
    assert config.channels["email"].targets() == [None]
