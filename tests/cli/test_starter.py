"""The starter file `tocsin init` writes: every channel it offers, uncommented, is valid."""

from __future__ import annotations

import re
from importlib import resources

from tocsin.config import parse

STARTER = resources.files("tocsin.examples").joinpath("starter.yaml").read_text("utf-8")
ENV = {
    name: "https://example.com/x" if name.endswith("URL") else "a-value"
    for name in re.findall(r"\$\{(\w+)\}", STARTER)
}


def uncommented_channels(text: str) -> str:
    """The channel lines under `channels:` with their leading `# ` taken away."""
    head, rest = text.split("\nchannels:\n", 1)
    block, tail = rest.split("\n\n", 1)
    lines = [re.sub(r"^  # (\w+: \{| {5,})", r"  \1", line) for line in block.splitlines()]
    return f"{head}\nchannels:\n" + "\n".join(lines) + "\n\n" + tail


def test_the_starter_offers_every_channel_kind_and_each_one_validates() -> None:
    config, _ = parse(uncommented_channels(STARTER), "starter.yaml", env=ENV)
    kinds = {name: channel.type for name, channel in config.channels.items()}
    assert sorted(kinds.values()) == sorted(
        ["console", "discord", "slack", "pagerduty", "webhook", "twilio", "email"]
    )
    assert "later versions" not in STARTER
