"""The channel interface: one small protocol, one error type with a `permanent` flag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol


class TransportError(Exception):
    """Sending failed. Permanent errors are not retried; others are, with backoff, honouring
    `retry_after` when the service gave one."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Message:
    """What a channel sends: the outbox row's stable id (the dedup key) and its payload."""

    id: str
    channel: str
    target: str | None
    payload: dict[str, Any]


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver once; raise TransportError on failure. Never touches the store."""
        ...
