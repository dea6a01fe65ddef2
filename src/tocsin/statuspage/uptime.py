"""Uptime per component and day over the last 90 days (pure: intervals in, figures out).

The formula, stated on the page: a day's uptime is (its minutes − minutes of a partial or
major outage) ÷ (its minutes − minutes of maintenance); outage minutes inside maintenance
do not count. A month is the same sum over its days in the range. Days are UTC days; today
counts up to now."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAYS = 90
DAY = timedelta(days=1)
Span = tuple[datetime, datetime]


def union(spans: Iterable[Span]) -> list[Span]:
    """The spans merged where they overlap or touch, in order."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def minus(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """`spans` (merged) without `holes` (merged), in one pass over both."""
    out: list[Span] = []
    first = 0
    for start, end in spans:
        while first < len(holes) and holes[first][1] <= start:
            first += 1  # holes ending before this span end before every later one too
        cursor = start
        for a, b in holes[first:]:
            if a >= end:
                break
            if a > cursor:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < end:
            out.append((cursor, end))
    return out


def per_day(spans: Iterable[Span], start: datetime, count: int) -> list[float]:
    """Seconds of `spans` in each of `count` days from `start` (spans split at midnight)."""
    out = [0.0] * count
    for a, b in spans:
        a = max(a, start)
        while a < b:
            index = (a - start) // DAY
            if index >= count:
                break
            cut = min(b, start + (index + 1) * DAY)
            out[index] += (cut - a).total_seconds()
            a = cut
    return out


def seconds(spans: Iterable[Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


@dataclass(frozen=True)
class Day:
    date: date
    observed_s: float  # the day's seconds so far
    outage_s: float  # outside maintenance
    maintenance_s: float

    @property
    def ratio(self) -> float | None:
        """Uptime as a fraction; None when the whole day so far was maintenance."""
        counted = self.observed_s - self.maintenance_s
        return None if counted <= 0 else max(0.0, (counted - self.outage_s) / counted)

    @property
    def percent(self) -> str:
        return percent(self.ratio)

    @property
    def grade(self) -> str:
        """full | minor | major | down | none, for the bar's colour (words say the rest)."""
        ratio = self.ratio
        if ratio is None:
            return "none"
        if ratio >= 1:
            return "full"
        return "minor" if ratio >= 0.99 else ("major" if ratio >= 0.95 else "down")


@dataclass(frozen=True)
class Month:
    name: str  # "2026-11"
    ratio: float | None

    @property
    def percent(self) -> str:
        return percent(self.ratio)


@dataclass(frozen=True)
class Uptime:
    days: list[Day]  # oldest first, today last
    months: list[Month]

    @property
    def percent(self) -> str:
        return self.days[-1].percent


def percent(ratio: float | None) -> str:
    if ratio is None:
        return "no data"
    # Rounded down, so a day with any outage never reads 100.00%.
    return f"{math.floor(ratio * 10_000) / 100:.2f}%" if ratio < 1 else "100%"


def first_day(now: datetime) -> datetime:
    """The start of the oldest day shown (UTC midnight, DAYS − 1 days before today)."""
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return today - timedelta(days=DAYS - 1)


def uptime(outages: Iterable[Span], maintenance: Iterable[Span], now: datetime) -> Uptime:
    """Days and months from a component's outage and maintenance spans."""
    days = days_from(outages, maintenance, first_day(now), now)
    return Uptime(days, months(days))


def days_from(
    outages: Iterable[Span], maintenance: Iterable[Span], start: datetime, now: datetime
) -> list[Day]:
    """The days from midnight `start` to today (today up to `now`), from the spans."""
    count = (now - start) // DAY + 1
    held = union((a, min(b, now)) for a, b in maintenance)
    down = minus(union((a, min(b, now)) for a, b in outages), held)
    outage_s, maintenance_s = per_day(down, start, count), per_day(held, start, count)
    days = []
    for n in range(count):
        begin = start + n * DAY
        observed = (min(begin + DAY, now) - begin).total_seconds()
        days.append(Day(begin.date(), observed, outage_s[n], maintenance_s[n]))
    return days


def joined(cached: Sequence[Day], live: Sequence[Day]) -> Uptime:
    """Closed days from the cache (those before the first live day) and the live days."""
    first_live = live[0].date if live else date.max
    days = [d for d in cached if d.date < first_live] + list(live)
    return Uptime(days, months(days))


def months(days: Sequence[Day]) -> list[Month]:
    totals: dict[str, list[float]] = {}
    for day in days:
        sums = totals.setdefault(day.date.strftime("%Y-%m"), [0.0, 0.0])
        sums[0] += day.observed_s - day.maintenance_s
        sums[1] += day.outage_s
    return [
        Month(name, None if counted <= 0 else max(0.0, (counted - out) / counted))
        for name, (counted, out) in totals.items()
    ]
