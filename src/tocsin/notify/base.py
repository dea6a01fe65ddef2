"""The channel interface: one small protocol, one error type with a `permanent` flag.

A channel sends an outbox row's `Message`; it never touches the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import httpx

from tocsin.outbox.payload import Message


class TransportError(Exception):
    """Sending failed. Permanent errors are not retried; others are, with backoff, honouring
    `retry_after` when the service gave one."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


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

    http: httpx.Client
    public_url: str
    console_write: Callable[[str], None] | None = None
