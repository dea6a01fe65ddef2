"""What the silence, maintenance and known-issue services share: validating run-time input
and the counters and windows of their rows."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.matchers import Matcher, parse_matcher, parse_matchers
from tocsin.noise.decide import Window
from tocsin.noise.models import KnownIssue, MaintenanceWindow, MutedAlert, Silence

# Further ahead than this is a typo, and near year 9999 date arithmetic would overflow.
MAX_REACH = timedelta(days=36_525)
# A recurring silence or window given no end runs for a year, then asks to be renewed.
RECURRING_SPAN = timedelta(days=365)
# A known issue given no expiry holds this long.
KNOWN_ISSUE_SPAN = timedelta(hours=1)
CHUNK = 500  # values per IN list: well under every backend's limit on bound parameters
V = TypeVar("V")


def chunks(values: Sequence[V]) -> Iterator[Sequence[V]]:
    """`values` in slices of at most CHUNK, for IN lists of a batch's size."""
    for first in range(0, len(values), CHUNK):
        yield values[first : first + CHUNK]


def check_matchers(texts: Sequence[str]) -> list[Matcher]:
    """Parse each text (one matcher, or several like `{a="b", c=~"d"}`); Invalid names the
    bad one. Input is refused before any write."""
    return [matcher for text in texts for matcher in parse_matchers(text)]


@functools.lru_cache(maxsize=1024)
def _parsed(texts: tuple[str, ...]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(text) for text in texts)


def parsed(texts: Sequence[str]) -> tuple[Matcher, ...]:
    """Matchers of a stored row (already validated), parsed once per process."""
    return _parsed(tuple(texts))


def check_range(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    for value in (starts_at, ends_at):
        if value.tzinfo is None:
            raise Invalid(f"{value.isoformat()} has no time zone")
    if ends_at <= starts_at:
        raise Invalid(f"the end ({ends_at.isoformat()}) must be after the start")
    if ends_at <= now:
        raise Invalid(f"the end ({ends_at.isoformat()}) is in the past")


def span(
    now: datetime, starts_at: datetime | None, ends_at: datetime | None, length: timedelta | None
) -> tuple[datetime, datetime]:
    """When a silence or window holds, from what an operator gave (the CLI's --start/--until/
    --for, the API's starts_at/ends_at/for): from `starts_at` (default now) until `ends_at`,
    else for `length`, else RECURRING_SPAN (a recurring one given no end). Invalid when the
    end cannot be represented."""
    start = starts_at or now
    try:
        if ends_at is not None:
            return start, ends_at
        return start, start + (length if length is not None else RECURRING_SPAN)
    except OverflowError:
        raise Invalid("the end is too far in the future") from None


def check_reach(ends_at: datetime, now: datetime) -> None:
    """Refuse an end more than MAX_REACH ahead (run-time input; the configuration may)."""
    if ends_at - now > MAX_REACH:
        raise Invalid(f"the end ({ends_at.isoformat()}) is more than 100 years away")


def check_recurrence(every: str | None, duration: timedelta | None, timezone: str) -> None:
    if (every is None) != (duration is None):
        raise Invalid("a recurring window needs both a cron expression and a duration")
    if every is not None and not croniter.is_valid(every):
        raise Invalid(f"{every!r} is not a valid cron expression (like '0 2 * * sun')")
    if duration is not None and duration <= timedelta(0):
        raise Invalid("the duration must be longer than zero")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{timezone!r} is not a known time zone (e.g. Europe/Paris)") from None


def window_of(row: Silence | MaintenanceWindow) -> Window:
    duration = timedelta(seconds=row.duration_s) if row.duration_s is not None else None
    return Window(row.starts_at, row.ends_at, row.every, duration, row.timezone)


def status_of(row: Silence | MaintenanceWindow, now: datetime) -> str:
    """active | pending (starts later, or between occurrences) | expired."""
    if now >= row.ends_at:
        return "expired"
    return "active" if window_of(row).active_until(now) is not None else "pending"


def count_suppressed(
    session: Session,
    model: type[Silence | MaintenanceWindow | KnownIssue],
    row_id: str,
    alerts: int = 1,
) -> None:
    """More alerts muted: an atomic increment, safe with several workers."""
    session.execute(
        update(model)
        .where(model.id == row_id)
        .values(suppressed_count=model.suppressed_count + alerts)
        .execution_options(synchronize_session=False)
    )


T = TypeVar("T", Silence, MaintenanceWindow, KnownIssue)


@dataclass(frozen=True)
class Muting(Generic[T]):
    """What a silence, a maintenance window and a known issue have in common for the verbs
    get, list and end: a row that mutes alerts until its end. `what` names it in messages,
    `mutes_as` is the `muted_alert.kind` of what it muted, `ends`/`starts` its columns (a
    known issue holds from its creation and `expires_at`), `ended` the word for its end."""

    model: type[T]
    what: str
    mutes_as: str
    ends: str = "ends_at"
    starts: str = "starts_at"
    ended: str = "ended"


SILENCES = Muting(Silence, "silence", "silence")
WINDOWS = Muting(MaintenanceWindow, "maintenance window", "maintenance")
KNOWN_ISSUES = Muting(
    KnownIssue,
    "known issue",
    "known_issue",
    ends="expires_at",
    starts="created_at",
    ended="expired",
)


def get_row(session: Session, kind: Muting[T], row_id: str) -> T:
    row = session.get(kind.model, row_id)
    if row is None:
        raise NotFound(f"{kind.what} {row_id} does not exist")
    return row


def list_rows(session: Session, kind: Muting[T], now: datetime, include_ended: bool) -> Sequence[T]:
    """By start (a known issue: by creation), then id; with `include_ended`, ended ones too."""
    model = kind.model
    query = select(model).order_by(getattr(model, kind.starts), model.id)
    if not include_ended:
        query = query.where(getattr(model, kind.ends) > now)
    return session.scalars(query).all()


def end_now(session: Session, kind: Muting[T], row_id: str, now: datetime) -> T:
    """End a row now, as Alertmanager expires a silence (its end = now; a silence or window
    that has not started never will), by compare-and-set on its end; what it muted is looked
    at again by the worker's next noise step. Conflict if it has already ended."""
    model = kind.model
    row = get_row(session, kind, row_id)
    ends_at: datetime = getattr(row, kind.ends)
    if ends_at <= now:
        raise Conflict(f"{kind.what} {row_id} already {kind.ended} at {ends_at.isoformat()}")
    values: dict[str, datetime] = {kind.ends: now}
    if kind.starts != "created_at":  # a known issue's creation stays as it was
        values[kind.starts] = min(getattr(row, kind.starts), now)
    result = session.execute(
        update(model)
        .where(model.id == row_id, getattr(model, kind.ends) == ends_at)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{kind.what} {row_id} changed meanwhile; try again")
    session.refresh(row)
    forget(session)
    wake(session, kind.mutes_as, row_id, now)
    return row


def extend_now(session: Session, kind: Muting[T], row_id: str, by: timedelta, now: datetime) -> T:
    """Move a row's end `by` later (from now, if that is later than its end would be), by
    compare-and-set on its end. Conflict if it has already ended."""
    model = kind.model
    row = get_row(session, kind, row_id)
    ends_at: datetime = getattr(row, kind.ends)
    if ends_at <= now:
        raise Conflict(f"{kind.what} {row_id} already {kind.ended} at {ends_at.isoformat()}")
    result = session.execute(
        update(model)
        .where(model.id == row_id, getattr(model, kind.ends) == ends_at)
        .values({kind.ends: max(ends_at, now) + by})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{kind.what} {row_id} changed meanwhile; try again")
    session.refresh(row)
    forget(session)
    return row


def per_transaction(session: Session, key: str, now: datetime, load: Callable[[], Any]) -> Any:
    """`load()` once per session and instant: one evaluation that fires a thousand alerts
    reads the silences, windows and known issues in force once, not a thousand times.
    The services that change those rows call `forget`."""
    cache: dict[str, tuple[datetime, Any]] = session.info.setdefault("tocsin.noise", {})
    hit = cache.get(key)
    if hit is None or hit[0] != now:
        hit = cache[key] = (now, load())
    return hit[1]


def forget(session: Session) -> None:
    session.info.pop("tocsin.noise", None)


W = TypeVar("W", Silence, MaintenanceWindow)


def active_rows(session: Session, model: type[W], now: datetime) -> list[tuple[W, datetime]]:
    """Rows in force at `now` (for a recurring one: inside an occurrence), each with the
    end of the current occurrence."""
    result: list[tuple[W, datetime]] = per_transaction(
        session, model.__tablename__, now, lambda: _active_rows(session, model, now)
    )
    return result


def _active_rows(session: Session, model: type[W], now: datetime) -> list[tuple[W, datetime]]:
    rows = session.scalars(
        select(model)
        .where(model.starts_at <= now, model.ends_at > now)
        .order_by(model.starts_at, model.id)
    ).all()
    out = []
    for row in rows:
        until = window_of(row).active_until(now)
        if until is not None:
            out.append((row, until))
    return out


def wake(session: Session, kind: str, ref: str, now: datetime) -> None:
    """Something muting alerts ended early (expired, ended): the worker's next noise step
    looks at the alerts it muted again."""
    session.execute(
        update(MutedAlert)
        .where(MutedAlert.kind == kind, MutedAlert.ref == ref)
        .values(recheck_at=now)
        .execution_options(synchronize_session=False)
    )
