"""How a missed ping is told: to the second for short periods, to the minute otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.config import HeartbeatConfig
from tocsin.heartbeats.schedule import missed_note, span

DUE = datetime(2026, 11, 17, 14, 0, 37, tzinfo=UTC)


def test_a_short_period_is_told_to_the_second() -> None:
    beat = HeartbeatConfig(name="queue", every=timedelta(seconds=30), grace=timedelta(seconds=10))
    assert missed_note(beat, DUE) == "expected by 2026-11-17 14:00:37 UTC (every 30s, grace 10s)"


def test_an_hourly_or_cron_heartbeat_is_told_to_the_minute() -> None:
    hourly = HeartbeatConfig(name="backup", every=timedelta(hours=1), grace=timedelta(minutes=10))
    assert missed_note(hourly, DUE) == "expected by 2026-11-17 14:00 UTC (every 1h, grace 10m)"
    nightly = HeartbeatConfig(name="n", cron="0 3 * * *", timezone="America/New_York")
    assert missed_note(nightly, DUE).endswith("(cron '0 3 * * *' America/New_York, grace 1h)")


def test_spans_read_as_they_are_written_in_the_configuration() -> None:
    assert [span(timedelta(seconds=s)) for s in (0, 45, 90, 5400, 86400 + 60)] == [
        "0s",
        "45s",
        "1m30s",
        "1h30m",
        "1d1m",
    ]
