"""The storefront's bad morning: what goes wrong when, as minute offsets from its start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
"""Tuesday 17 November 2026, 09:00 in New York."""

Row = dict[str, Any]
Window = tuple[int, int]


@dataclass(frozen=True)
class Scenario:
    """A bad morning, as minute offsets `(begin, end)` from the scenario start."""

    seed: int = 20261117
    history_days: int = 30
    log_history_hours: int = 48  # the shop keeps two days of logs; older ones are archived
    minutes: int = 360
    payment_outage: Window = (30, 60)  # webhooks stop creating orders: silence, no errors
    error_noise: Window = (75, 95)  # wanders 4.3-8 %, crossing 5 % without going under 4 %
    error_spike: Window = (95, 115)  # ~12 %
    error_tail: Window = (115, 130)  # decays through 6-8 %
    printify_slow: Window = (140, 150)  # printify p95 ~2.5x its baseline
    printify_degraded: Window = (150, 180)  # ~3.5x; its submissions time out into the queue
    # A retry script resubmits the last two days' orders to printful, twice: after each
    # wave today's cost stands this far above the 30-day average, and this many of the
    # duplicates are flagged into the manual queue.
    cost_waves: tuple[Window, Window] = ((220, 230), (245, 255))
    cost_wave_percents: tuple[float, float] = (37.0, 85.0)
    duplicates_flagged: tuple[int, int] = (30, 40)
    queue_drain: Window = (290, 310)  # the team clears the manual queue, urgent first
    normal_error_percent: float = 1.5
    spike_error_percent: float = 12.5

    @property
    def total(self) -> timedelta:
        return timedelta(minutes=self.minutes)


def scenario_events(scenario: Scenario) -> list[tuple[timedelta, str]]:
    """What happens when, for the demo's narrative (offsets from the scenario start)."""

    def at(minute: int) -> timedelta:
        return timedelta(minutes=minute)

    s = scenario
    return [
        (at(0), "Tuesday morning in New York: normal traffic"),
        (at(s.payment_outage[0]), "Stripe webhooks stop creating orders (no errors, just silence)"),
        (at(s.payment_outage[1]), "Webhook processing restored: orders flow again"),
        (at(s.error_noise[0]), "Database connection pool saturating: error rate 5-8 %"),
        (at(s.error_spike[0]), "Connection pool exhausted: error rate ~12 %"),
        (at(s.error_tail[0]), "Workers restarted: error rate decays through 6-8 %"),
        (at(s.error_tail[1]), "Error rate back to normal (~1.5 %)"),
        (at(s.printify_slow[0]), "Printify API slows down: p95 ~2.5x its baseline"),
        (
            at(s.printify_degraded[0]),
            "Printify p95 ~3.5x baseline; timed-out orders go to the manual queue as urgent",
        ),
        (at(s.printify_degraded[1]), "Printify recovers"),
        (
            at(s.cost_waves[0][0]),
            "A retry script resubmits two days of orders to Printful: costs pile up, "
            "duplicates are flagged into the manual queue",
        ),
        (
            at(s.cost_waves[0][1]),
            f"Retry script done; today's cost ~{s.cost_wave_percents[0]:.0f} % above average",
        ),
        (at(s.cost_waves[1][0]), "Someone runs the retry script again"),
        (
            at(s.cost_waves[1][1]),
            f"Second run done; today's cost ~{s.cost_wave_percents[1]:.0f} % above average "
            "until the UTC day ends",
        ),
        (at(s.queue_drain[0]), "The team drains the manual queue, urgent items first"),
        (at(s.queue_drain[1]), "Manual queue back to normal; traffic normal"),
    ]


def during(window: Window, start: datetime, at: datetime) -> bool:
    """Whether `at` falls in `window` (minute offsets from `start`)."""
    return start + timedelta(minutes=window[0]) <= at < start + timedelta(minutes=window[1])


def whole_seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)
