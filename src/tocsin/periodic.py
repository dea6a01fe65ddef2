"""Periodic jobs run exactly once per slot across every instance sharing a store: the daily
digest, pruning, and the coming update reminders and reports.

A job's period is named by a slot (`slot_at`: the digest's time, the start of the hour). One
`job_slot` row per (job, slot) is inserted with `ON CONFLICT DO NOTHING` by whoever comes
first, then claimed like a check's slot (`tocsin.claims`: SKIP LOCKED plus a compare-and-set,
row count checked) — the pattern procrastinate and solid_queue use.

Two ways to run one, by where its work is written:

- **in the claiming transaction** (`once`): the slot is marked done in the caller's
  transaction, so the work and the mark commit together or not at all; a crash before the
  commit leaves the slot to whoever runs next. Digests and pruning do this::

      with session_scope(factory) as session:
          if periodic.once(session, "prune", periodic.slot_at(now, timedelta(hours=1)), now):
              prune(session, now)

- **outside any transaction** (`claim`, then `finish`): a report rendered and mailed, say.
  `claim` takes a lease (commit it before working); `finish` marks the slot done if the
  lease is still held. An instance that dies mid-job leaves a lease that runs out, and the
  next `claim` after that runs the job again (at least once, never twice at a time)::

      with session_scope(factory) as session:
          mine = periodic.claim(session, "weekly-report", slot, me, now, lease)
      if mine:
          send_the_report()
          with session_scope(factory) as session:
              periodic.finish(session, "weekly-report", slot, me, clock.now())
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin import claims
from tocsin.db import Base, UTCDateTime, is_postgresql

KEEP = timedelta(days=30)  # done slots kept this long (what ran when), then pruned


class JobSlot(Base):
    """One period of one job: who holds it (and until when), and when it was done."""

    __tablename__ = "job_slot"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def slot_at(now: datetime, every: timedelta) -> datetime:
    """The start of the period of length `every` (counted from the Unix epoch) holding `now`."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    periods = (now - epoch) // every
    return epoch + periods * every


def _ensure(session: Session, job: str, slot: datetime, now: datetime) -> None:
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    session.execute(
        insert(JobSlot).values(job=job, slot_at=slot, created_at=now).on_conflict_do_nothing()
    )


def _open(session: Session, job: str, slot: datetime) -> bool:
    """Is the slot not done, and not held by a transaction of another instance right now?"""
    found = claims.due(
        session,
        select(JobSlot.job).where(
            JobSlot.job == job, JobSlot.slot_at == slot, JobSlot.done_at.is_(None)
        ),
    )
    return bool(found)


def once(session: Session, job: str, slot: datetime, now: datetime, owner: str = "") -> bool:
    """True for exactly one caller per (job, slot), across instances: the slot is marked done
    in the caller's transaction, so do the job's work in that same transaction."""
    _ensure(session, job, slot, now)
    if not _open(session, job, slot):
        return False
    return claims.take(
        session,
        JobSlot,
        (JobSlot.job == job) & (JobSlot.slot_at == slot),
        expect=[JobSlot.done_at.is_(None)],
        values={"done_at": now, "owner": owner or None},
    )


def claim(
    session: Session, job: str, slot: datetime, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Lease the slot for work done outside this transaction (commit before working): True
    when this caller holds it, the slot not being done nor held by a living lease."""
    _ensure(session, job, slot, now)
    if not _open(session, job, slot):
        return False
    return claims.take(
        session,
        JobSlot,
        (JobSlot.job == job) & (JobSlot.slot_at == slot),
        expect=[JobSlot.done_at.is_(None), claims.lease_free(JobSlot.lease_until, now)],
        values={"owner": owner, "lease_until": now + lease},
    )


def finish(session: Session, job: str, slot: datetime, owner: str, now: datetime) -> bool:
    """Mark a leased slot done; False when the lease was lost (ran out and another took it)."""
    return claims.take(
        session,
        JobSlot,
        (JobSlot.job == job) & (JobSlot.slot_at == slot),
        expect=[JobSlot.owner == owner, JobSlot.done_at.is_(None)],
        values={"done_at": now, "lease_until": None},
    )


def prune(session: Session, now: datetime, keep: timedelta = KEEP) -> int:
    """Forget done slots older than `keep`."""
    result = session.execute(
        delete(JobSlot).where(JobSlot.done_at.is_not(None), JobSlot.slot_at < now - keep)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
