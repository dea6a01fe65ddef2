"""When a report runs (pure): the cron's times in its zone, kept to the month's first business
day when asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from tocsin.config.reports import ReportScheduleConfig

# A cron time kept only on one day a month is found within a few hundred candidates; the bound
# stops a schedule that can never match ('0 9 31 2 *' with first_business_day) from spinning.
_MAX_CANDIDATES = 5000


def schedule_key(schedule: ReportScheduleConfig) -> str:
    """A string that changes whenever the schedule's meaning changes."""
    holidays = ",".join(day.isoformat() for day in sorted(schedule.holidays))
    return f"{schedule.cron}@{schedule.timezone}|{schedule.only or ''}|{holidays}"[:300]


def first_business_day(year: int, month: int, holidays: frozenset[date]) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def _kept(schedule: ReportScheduleConfig, local: datetime) -> bool:
    if schedule.only != "first_business_day":
        return True
    holidays = frozenset(schedule.holidays)
    return local.date() == first_business_day(local.year, local.month, holidays)


def next_slot(schedule: ReportScheduleConfig, after: datetime) -> datetime:
    """The first run time strictly after `after` (aware UTC in, aware UTC out)."""
    zone = ZoneInfo(schedule.timezone)
    times = croniter(schedule.cron, after.astimezone(zone))
    for _ in range(_MAX_CANDIDATES):
        local: datetime = times.get_next(datetime)
        if _kept(schedule, local):
            return local.astimezone(UTC)
    raise ValueError(f"schedule {schedule_key(schedule)!r} never runs")


def previous_slot(schedule: ReportScheduleConfig, before: datetime) -> datetime | None:
    """The last run time at or before `before`, or None within the bound."""
    zone = ZoneInfo(schedule.timezone)
    times = croniter(schedule.cron, (before + timedelta(seconds=1)).astimezone(zone))
    for _ in range(_MAX_CANDIDATES):
        local: datetime = times.get_prev(datetime)
        if _kept(schedule, local):
            return local.astimezone(UTC)
    return None
