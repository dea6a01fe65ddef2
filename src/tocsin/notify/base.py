"""The channel interface: one small protocol. A channel sends an outbox row's `Message` and
raises `tocsin.egress.TransportError` (with its `permanent` flag) when it cannot; it never
touches the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tocsin.egress import Egress
from tocsin.outbox.payload import Message


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver once; raise TransportError on failure. Never touches the store."""
        ...


@dataclass(frozen=True)
class Surroundings:
    """What a channel may need besides its own configuration, given to `from_config`: the
    shared HTTP client, the public URL links point to, and where the console channel writes
    (None: its stream)."""

    http: Egress
    public_url: str
    console_write: Callable[[str], None] | None = None
