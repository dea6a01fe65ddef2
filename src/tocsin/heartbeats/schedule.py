"""When a heartbeat's next ping is due (pure): a period after the last ping, or the next cron
time in the heartbeat's zone; it is late after that and missed once the grace has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


def cadence(beat: HeartbeatConfig) -> str:
    """How often it is expected, for people: `every 30s, grace 10s`."""
    when = f"every {span(beat.every)}" if beat.every is not None else f"cron '{beat.cron}'"
    zone = f" {beat.timezone}" if beat.cron is not None else ""
    return f"{when}{zone}, grace {span(beat.grace)}"


def missed_note(beat: HeartbeatConfig, due: datetime) -> str:
    """The missed-ping alert's message: when the ping was expected, to the second when the
    heartbeat is expected more often than hourly (a minute is most of a 30 s period)."""
    short = beat.every is not None and beat.every < timedelta(hours=1)
    at = f"{due:%Y-%m-%d %H:%M:%S}" if short else f"{due:%Y-%m-%d %H:%M}"
    return f"expected by {at} UTC ({cadence(beat)})"


def span(length: timedelta) -> str:
    """`1h30m`, `45s`, `2d`; whole seconds."""
    seconds = int(length.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
