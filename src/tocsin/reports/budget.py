"""Error budgets, pure: the window an SLO is judged over, bad time from alert intervals, the
budget left and its status, and the SRE workbook's multiwindow burn-rate pairs.

A burn rate is the share of bad time (or events) in a window divided by the share the
objective allows: 1 spends the budget exactly by the window's end, 14.4 spends 2 % of a 30-day
budget in an hour."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Status = Literal["Within Budget", "Warning", "Budget Exceeded"]
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class BurnPair:
    """Alert when both windows burn at `factor` or faster (the short one stops the alert
    soon after the burn stops)."""

    long: timedelta
    short: timedelta
    factor: float
    tier: Literal["page", "ticket"]


# The SRE workbook, chapter 5, table 5-8: two pairs page, two open a ticket.
PAIRS: tuple[BurnPair, ...] = (
    BurnPair(timedelta(hours=1), timedelta(minutes=5), 14.4, "page"),
    BurnPair(timedelta(hours=6), timedelta(minutes=30), 6.0, "page"),
    BurnPair(timedelta(days=1), timedelta(hours=2), 3.0, "ticket"),
    BurnPair(timedelta(days=3), timedelta(hours=6), 1.0, "ticket"),
)
LONGEST = max(p.long for p in PAIRS)


def month_start(at: datetime, zone: str) -> datetime:
    local = at.astimezone(ZoneInfo(zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(at.tzinfo)


def window(
    spec: Literal["month"] | timedelta, zone: str, now: datetime
) -> tuple[datetime, datetime]:
    """The window's start and its end: a rolling window ends now; a calendar month ends at
    the next month's start (its budget is the whole month's, spent so far)."""
    if isinstance(spec, timedelta):
        return now - spec, now
    start = month_start(now, zone)
    local = start.astimezone(ZoneInfo(zone))
    following = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, following.astimezone(now.tzinfo)


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping intervals joined, in order."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return out


def covered(intervals: Sequence[Interval], since: datetime, until: datetime) -> float:
    """Seconds of [since, until) inside the (merged) intervals."""
    total = 0.0
    for start, end in intervals:
        lo, hi = max(start, since), min(end, until)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def status(remaining: float, warning: float) -> Status:
    """§6.4.3's names for the budget left (a share, 1 = untouched)."""
    if remaining <= 0:
        return "Budget Exceeded"
    if remaining * 100 <= warning:
        return "Warning"
    return "Within Budget"


def burn_rate(bad: float, total: float, budget: float) -> float:
    """How fast a window spends the budget (0 without data)."""
    return (bad / total) / budget if total > 0 else 0.0


def even_burn(start: datetime, end: datetime, points: int) -> list[tuple[datetime, float]]:
    """The line that spends the whole budget evenly by the window's end, in percent."""
    step = (end - start) / points
    return [(start + i * step, 100.0 * (1 - i / points)) for i in range(points + 1)]
