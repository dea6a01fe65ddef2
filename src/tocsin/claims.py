"""How every reader of due rows claims them, so that several workers (threads, processes,
instances) sharing one store never both do one row's work and never lose it.

A claim is two statements in the caller's transaction:

1. **read the due rows** with `due()`: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so a row
   another worker is working on is skipped rather than waited for (and a row it has since
   changed is read again and dropped if no longer due); on SQLite a plain read, since the
   store has one writer and the transaction holds it;
2. **compare-and-set** each row with `take()` (or `take_many()`): an `UPDATE` whose `WHERE`
   names the row *and the state it was read in* (its due time, its state, its version), with
   the row count checked. Only the caller whose update moved the row does its work; 0 rows
   means another worker got there first, and the caller skips it.

The lock alone would do on PostgreSQL while the transaction is open; the compare-and-set is
what keeps the rule true across transactions, on SQLite, and for work done outside one (claim,
commit, send, record: there the update also sets a lease, see `lease_free`).

Example: a due table `reminder` (`id`, `due_at`, `sent_at`) whose rows are each sent once::

    from tocsin import claims

    def send_due(session: Session, now: datetime) -> int:
        rows = claims.due(
            session,
            select(Reminder).where(Reminder.due_at <= now).order_by(Reminder.due_at).limit(100),
        )
        done = 0
        for row in rows:
            if not claims.take(
                session,
                Reminder,
                Reminder.id == row.id,
                expect=[Reminder.due_at == row.due_at],
                values={"due_at": None, "sent_at": now},
            ):
                continue  # another worker had it
            write_the_notification(session, row, now)
            done += 1
        return done

A job that runs once per period (a digest, a report, a pruning) claims a slot instead:
`tocsin.periodic`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from tocsin.db import is_postgresql

T = TypeVar("T")
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")  # a select of any columns
log = logging.getLogger("tocsin.claims")


def locking(session: Session, query: S) -> S:
    """The query with `FOR UPDATE SKIP LOCKED` on PostgreSQL (unchanged on SQLite). For a
    read used inside a larger statement (an `UPDATE … WHERE id IN (…)`)."""
    if is_postgresql(session):
        return query.with_for_update(skip_locked=True)
    return query


def due(session: Session, query: Select[T]) -> Sequence[T]:
    """Read due rows (or columns) for claiming: locked and skipping what another worker
    holds on PostgreSQL; a plain read on SQLite. Claim each with `take` before working."""
    return session.scalars(locking(session, query)).all()


def take(
    session: Session,
    model: type[Any],
    key: ColumnElement[bool],
    *,
    expect: Sequence[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> bool:
    """Compare-and-set one row: `UPDATE model SET values WHERE key AND expect`; True when
    exactly one row moved (the caller owns the work), False when none did (another worker
    moved it first). More than one is a bug in `key` and raises."""
    result = session.execute(
        update(model)
        .where(key, *expect)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    if count > 1:
        raise RuntimeError(f"claim on {model.__tablename__} matched {count} rows; key not unique")
    if count == 0:
        log.debug("%s: row already claimed by another worker", model.__tablename__)
    return count == 1


def take_many(
    session: Session,
    model: type[Any],
    ident: InstrumentedAttribute[Any],
    ids: Collection[Any],
    *,
    expect: Sequence[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> set[Any]:
    """Compare-and-set a batch in one statement: `UPDATE … WHERE ident IN ids AND expect
    RETURNING ident`; the ids this call moved (the rest were taken by someone else)."""
    if not ids:
        return set()
    moved = session.scalars(
        update(model)
        .where(ident.in_(list(ids)), *expect)
        .values(**values)
        .returning(ident)
        .execution_options(synchronize_session=False)
    )
    taken = set(moved)
    if len(taken) < len(ids):
        log.debug(
            "%s: %d of %d already claimed", model.__tablename__, len(ids) - len(taken), len(ids)
        )
    return taken


def lease_free(until: InstrumentedAttribute[Any], now: datetime) -> ColumnElement[bool]:
    """The `expect` of a leased claim: nobody holds the row, or the holder's lease ran out
    (it died; the row is taken over)."""
    return or_(until.is_(None), until <= now)


def held_by(
    owner: InstrumentedAttribute[Any], until: InstrumentedAttribute[Any], me: str, now: datetime
) -> ColumnElement[bool]:
    """The `expect` of recording a leased claim's outcome: this worker still holds it."""
    return and_(owner == me, until > now)
