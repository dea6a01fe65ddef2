"""The one clock: every reader of time gets it injected, so tests and the demo use virtual time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when told to; thread-safe so a worker thread can read it."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(when)


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes (they are a bug) and convert aware ones to UTC."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Tocsin uses aware UTC datetimes only")
    return value.astimezone(UTC)
