"""Apply a batch of inbound events in the caller's transaction: all of it or none of it.

The path Prometheus exercises every cycle is made cheap: one query finds every open alert of
the batch by fingerprint, new alerts and their timeline rows are inserted with one statement
each, and refreshes of alerts already open are one executemany UPDATE (and nothing at all
when the sender repeated itself: then the batch only reads, without locking; a re-send that
only moves an end later is answered the same way by the API, which writes the new end a
moment later with others, `tocsin.inbound.ends`). The new alerts
are opened together through the door (`actions.alerts.fire_many`: one INSERT each for the
alerts and their rows, noise control's reads once per batch, the notifications in one
statement), with the same rows as one at a time; other transitions (resolved, acknowledged,
severity changed) go through it one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin.actions import alerts as alert_actions
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertChange
from tocsin.alerts.service import NewAlert
from tocsin.db import is_postgresql
from tocsin.errors import Conflict
from tocsin.inbound.ends import WRITE_AT_ONCE, Pending, PendingEnds
from tocsin.inbound.schemas import Inbound
from tocsin.pipeline import Pipeline


@dataclass(frozen=True)
class Applied:
    """What one event did: created, updated, unchanged, resolved, acknowledged or ignored."""

    outcome: str
    alert_id: int | None
    key: str


@dataclass(frozen=True)
class OpenAlert:
    id: int
    state: str
    severity: str
    title: str
    message: str
    details: dict[str, Any] | None
    ends_at: datetime | None


def apply(
    session: Session, batch: Sequence[Inbound], now: datetime, pipeline: Pipeline, actor: str
) -> list[Applied]:
    """Apply every event; within one batch the last event about a fingerprint wins."""
    last = last_of_each(batch)
    found = open_by_fingerprint(session, list(last), lock=False)
    repeated = all_repeated(batch, last, found)
    if repeated is not None:
        # Only the sender repeating itself (Prometheus's every cycle): nothing to write, so
        # nothing to lock. On PostgreSQL a row lock is itself a write, making the commit
        # flush the WAL to disk for a batch that changed nothing.
        return repeated
    if is_postgresql(session):  # lock, and decide on the rows as they are once locked
        found = open_by_fingerprint(session, list(last), lock=True)
    results: dict[str, Applied] = {}
    new: list[Inbound] = []
    refresh: list[dict[str, Any]] = []
    for fp, event in last.items():
        current = found.get(fp)
        if event.action == "fire":
            if current is None:
                new.append(event)
                continue
            results[fp] = _refire(session, event, current, now, pipeline, refresh)
        elif current is None:
            results[fp] = Applied("ignored", None, event.key)
        elif event.action == "resolve":
            alert_actions.resolve(session, pipeline, current.id, actor, now, f"by {actor}")
            results[fp] = Applied("resolved", current.id, event.key)
        elif current.state == "firing":
            alert_actions.acknowledge(session, pipeline, current.id, actor, now, f"by {actor}")
            results[fp] = Applied("acknowledged", current.id, event.key)
        else:
            results[fp] = Applied("unchanged", current.id, event.key)
    if refresh:
        session.execute(update(Alert), refresh)
    for alert in _insert(session, new, now, pipeline):
        results[alert.fingerprint] = Applied("created", alert.id, last[alert.fingerprint].key)
    return [results[event.fingerprint] for event in batch]


def change_seq(session: Session) -> int:
    """Where the `alert_change` log stood in this transaction's view of the store (0: empty)."""
    found = session.connection().execute(select(func.max(AlertChange.seq))).scalar()
    return int(found or 0)


def last_of_each(batch: Sequence[Inbound]) -> dict[str, Inbound]:
    last: dict[str, Inbound] = {}
    for event in batch:
        last.pop(event.fingerprint, None)
        last[event.fingerprint] = event
    return last


def all_repeated(
    batch: Sequence[Inbound],
    last: dict[str, Inbound],
    found: dict[str, OpenAlert],
    ends: tuple[PendingEnds, datetime] | None = None,
) -> list[Applied] | None:
    """An "unchanged" answer per event when the batch changes nothing stored, else None.
    With `ends` (the API's pending ends and now), a fire that only moves an end later, far
    enough ahead (`deferrable_end`), counts as changing nothing: its end is noted there."""
    later: Pending = {}
    for fp, event in last.items():
        current = found.get(fp)
        if repeats(event, current):
            continue
        if ends is None or current is None:
            return None
        end = deferrable_end(event, current, ends[1])
        if end is None:
            return None
        later[fp] = (current.id, end)
    if later and ends is not None:
        ends[0].note(later)
    return [Applied("unchanged", found[event.fingerprint].id, event.key) for event in batch]


def open_by_fingerprint(
    session: Session, fingerprints: list[str], *, lock: bool
) -> dict[str, OpenAlert]:
    query = select(
        Alert.fingerprint,
        Alert.id,
        Alert.state,
        Alert.severity,
        Alert.title,
        Alert.message,
        Alert.details,
        Alert.ends_at,
    ).where(
        Alert.fingerprint.in_(fingerprints),
        # Searched by fingerprint in the partial unique index: `state IN (…)` made SQLite
        # walk every open alert, a re-send's cost growing with them (45 µs per alert with
        # 5,000 open; 5 µs now).
        alerts.is_open(),
    )
    if lock and is_postgresql(session):
        query = query.with_for_update()  # a concurrent batch waits, then sees our change
    # On the connection: Core rows, none of the ORM's result machinery (a re-send's cost).
    return {row[0]: OpenAlert(*row[1:]) for row in session.connection().execute(query)}


def _refire(
    session: Session,
    event: Inbound,
    current: OpenAlert,
    now: datetime,
    pipeline: Pipeline,
    refresh: list[dict[str, Any]],
) -> Applied:
    """A fire for an alert already open: a severity change is a transition, anything else
    a quiet refresh of what the sender says now."""
    if event.severity != current.severity:
        alert_actions.change_severity(
            session, pipeline, current.id, event.severity, now, message=event.message
        )
    values = _refreshed(event, current)
    if not values:
        return Applied("unchanged", current.id, event.key)
    refresh.append({"id": current.id, "updated_at": now, **values})
    return Applied("updated", current.id, event.key)


def _refreshed(event: Inbound, current: OpenAlert) -> dict[str, Any]:
    """The columns a fire for an open alert changes (none: the sender repeated itself or
    left out only details it sent before)."""
    values = _said(event, current)
    if event.ends_at != current.ends_at:
        values["ends_at"] = event.ends_at
    return values


def _said(event: Inbound, current: OpenAlert) -> dict[str, Any]:
    """The columns other than the end that a fire for an open alert changes."""
    values: dict[str, Any] = {}
    if event.message != current.message or event.title != current.title:
        values |= {"message": event.message, "title": event.title}
    stored = current.details or {}
    if event.details != stored:
        # Merged over what is stored: a detail the sender left out this time (PagerDuty's
        # custom_details on a bare re-trigger) is kept, one it sends is replaced.
        merged = stored | event.details
        if merged != stored:
            values["details"] = merged
    return values


def repeats(event: Inbound, current: OpenAlert | None) -> bool:
    """A fire for an open alert that changes nothing: `apply` then only reads."""
    return (
        event.action == "fire"
        and current is not None
        and event.severity == current.severity
        and not _refreshed(event, current)
    )


def deferrable_end(event: Inbound, current: OpenAlert, now: datetime) -> datetime | None:
    """The later end a fire brings when that is all it changes and the stored end is more
    than WRITE_AT_ONCE ahead, so it may be written a moment late (`tocsin.inbound.ends`);
    None when the fire must be applied now."""
    new, stored = event.ends_at, current.ends_at
    if (
        event.action != "fire"
        or new is None
        or stored is None
        or new <= stored
        or stored - now <= WRITE_AT_ONCE
        or event.severity != current.severity
        or _said(event, current)
    ):
        return None
    return new


def _insert(
    session: Session, events: list[Inbound], now: datetime, pipeline: Pipeline
) -> list[Alert]:
    """Open the new alerts together through the door (one INSERT each for the alerts and
    their `fired` rows, then the pipeline for the batch)."""
    new = [
        NewAlert(
            fingerprint=e.fingerprint,
            origin=e.origin,
            labels=e.labels,
            severity=e.severity,
            title=e.title,
            message=e.message,
            source=e.source,
            details=e.details,
            ends_at=e.ends_at,
        )
        for e in events
    ]
    return [alert for alert, _ in alert_actions.fire_many(session, pipeline, new, now)]


def resolve_expired(session: Session, now: datetime, pipeline: Pipeline, limit: int = 500) -> int:
    """Resolve open alerts whose end (the latest a sender gave) has passed, through the door.
    Each is claimed by a compare-and-set on its state and end (row count checked): one whose
    end a sender moved since it was read, or that another worker took, is left alone."""
    # `state != 'resolved'` (the same as open) is the partial index's own predicate: with
    # `state IN (…)` SQLite reads every open alert by state instead, each tick of an idle worker.
    query = (
        select(Alert.id, Alert.state)
        .where(Alert.ends_at <= now, alerts.is_open())  # ix_alert_open_ends_at
        .order_by(Alert.ends_at)
        .limit(limit)
    )
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    done = 0
    for alert_id, state in session.execute(query).all():
        try:
            with session.begin_nested():
                claimed = session.execute(
                    update(Alert)
                    .where(Alert.id == alert_id, Alert.state == state, Alert.ends_at <= now)
                    .values(updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    raise Conflict(f"alert {alert_id} moved on since it was read")
                alert_actions.resolve(
                    session, pipeline, alert_id, None, now, "the sender's end time passed"
                )
        except Conflict:
            continue
        done += 1
    return done
