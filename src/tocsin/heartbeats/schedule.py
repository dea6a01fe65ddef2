"""When a heartbeat's next ping is due (pure): a period after the last ping, or the next cron
time in the heartbeat's zone; it is late after that and missed once the grace has passed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from tocsin.config.heartbeats import HeartbeatConfig


def next_due(beat: HeartbeatConfig, after: datetime) -> datetime:
    if beat.every is not None:
        return after + beat.every
    assert beat.cron is not None
    local = after.astimezone(ZoneInfo(beat.timezone))
    found: datetime = croniter(beat.cron, local).get_next(datetime)
    return found.astimezone(UTC)


def status(stored: str, next_due_at: datetime | None, now: datetime) -> str:
    """What to show: new, up, late (due passed, within grace), down (missed or failed)."""
    if stored == "up" and next_due_at is not None and now > next_due_at:
        return "late"
    return stored
