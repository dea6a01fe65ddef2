"""Check schedules as due rows, evaluations, pending series and samples, over a session."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin import claims as claiming
from tocsin.checks.evaluate import RowResult, first_slot, next_slot, schedule_key
from tocsin.checks.models import CheckSample, CheckSchedule, CheckSeries, Evaluation
from tocsin.config.checks import CheckConfig
from tocsin.errors import Conflict

# The hot path runs Core statements on these tables: no ORM identity map or unit of work.
SCHEDULE = cast(Table, CheckSchedule.__table__)
EVALUATION = cast(Table, Evaluation.__table__)
SERIES = cast(Table, CheckSeries.__table__)
SAMPLE = cast(Table, CheckSample.__table__)


@dataclass(frozen=True)
class Claim:
    """A worker's lease on one slot of one check."""

    check_name: str
    slot_at: datetime
    owner: str
    consecutive_errors: int


def sync_schedules(session: Session, checks: Iterable[CheckConfig], now: datetime) -> None:
    """Make schedule rows match the configuration: add new checks, drop removed ones,
    re-plan checks whose schedule changed; leave the rest (and their leases) alone."""
    wanted = {check.name: check for check in checks if check.enabled}
    existing = {row.check_name: row for row in session.scalars(select(CheckSchedule)).all()}
    for name, stale in existing.items():
        if name not in wanted:
            session.delete(stale)
    for name, check in wanted.items():
        key = schedule_key(check.schedule)
        row = existing.get(name)
        if row is None:
            session.add(
                CheckSchedule(
                    check_name=name,
                    schedule_key=key,
                    next_run_at=first_slot(check.schedule, now),
                    consecutive_errors=0,
                )
            )
        elif row.schedule_key != key:
            row.schedule_key = key
            row.next_run_at = first_slot(check.schedule, now)
    session.flush()


def claim_due(
    session: Session, owner: str, now: datetime, lease: timedelta, limit: int = 100
) -> list[Claim]:
    """Lease due slots in one `UPDATE … RETURNING`. The outer WHERE repeats the due-and-free
    test, so it is a compare-and-set and two workers never both take one slot; on PostgreSQL
    the inner `FOR UPDATE SKIP LOCKED` keeps them from queueing behind each other."""
    free = (SCHEDULE.c.lease_until.is_(None)) | (SCHEDULE.c.lease_until <= now)
    due = (
        select(SCHEDULE.c.check_name)
        .where(SCHEDULE.c.next_run_at <= now, free)
        .order_by(SCHEDULE.c.next_run_at)
        .limit(limit)
    )
    rows = session.connection().execute(
        update(SCHEDULE)
        .where(
            SCHEDULE.c.check_name.in_(claiming.locking(session, due)),
            SCHEDULE.c.next_run_at <= now,
            free,
        )
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(SCHEDULE.c.check_name, SCHEDULE.c.next_run_at, SCHEDULE.c.consecutive_errors)
    )
    claims = [Claim(name, slot, owner, errors) for name, slot, errors in rows]
    return sorted(claims, key=lambda c: (c.slot_at, c.check_name))


@dataclass(frozen=True)
class Completion:
    """A claimed slot that was evaluated: where its schedule goes next."""

    claim: Claim
    next_run_at: datetime
    consecutive_errors: int


def completion(
    claim: Claim, check: CheckConfig, now: datetime, consecutive_errors: int
) -> Completion:
    return Completion(claim, next_slot(check.schedule, claim.slot_at, now), consecutive_errors)


# Built once: the hot path binds values instead of building and hashing expressions.
_COMPLETE = (
    update(SCHEDULE)
    .where(
        SCHEDULE.c.check_name == bindparam("b_name"),
        SCHEDULE.c.next_run_at == bindparam("b_slot"),
        SCHEDULE.c.lease_owner == bindparam("b_owner"),
    )
    .values(
        next_run_at=bindparam("b_next"),
        lease_owner=None,
        lease_until=None,
        last_run_at=bindparam("b_now"),
        consecutive_errors=bindparam("b_errors"),
    )
)


def complete(session: Session, done: Sequence[Completion], now: datetime) -> None:
    """Advance each schedule past its claimed slot, as one compare-and-set per slot; Conflict
    if any lease was lost meanwhile (the caller's transaction must then roll back everything
    it wrote, and may retry the others one by one)."""
    if not done:
        return
    params = [
        {
            "b_name": d.claim.check_name,
            "b_slot": d.claim.slot_at,
            "b_owner": d.claim.owner,
            "b_next": d.next_run_at,
            "b_now": now,
            "b_errors": d.consecutive_errors,
        }
        for d in done
    ]
    conn = session.connection()
    if len(params) == 1 or not conn.dialect.supports_sane_multi_rowcount:
        updated = sum(conn.execute(_COMPLETE, p).rowcount for p in params)
    else:
        updated = conn.execute(_COMPLETE, params).rowcount
    if updated != len(params):
        lost = done[0].claim if len(done) == 1 else None
        what = f"{lost.check_name} at {lost.slot_at:%H:%M:%S}" if lost else "a slot of the batch"
        raise Conflict(f"lost the lease on {what}")


def release(session: Session, claim: Claim) -> None:
    session.execute(
        update(CheckSchedule)
        .where(
            CheckSchedule.check_name == claim.check_name, CheckSchedule.lease_owner == claim.owner
        )
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Record:
    """One evaluation to store: the slot it ran for, its times, and what it found."""

    check_name: str
    slot_at: datetime
    started_at: datetime
    finished_at: datetime
    status: str
    results: Sequence[RowResult]
    error_kind: str | None = None
    error: str | None = None
    worker_id: str | None = None


# Unordered RETURNING lets the rows go in one statement; ids are matched back by check name,
# unique within a batch since each check has one schedule row and so one claimed slot.
_INSERT_EVALUATION = insert(EVALUATION).returning(EVALUATION.c.check_name, EVALUATION.c.id)
_INSERT_SAMPLE = insert(SAMPLE)


def record(session: Session, records: Sequence[Record]) -> list[int]:
    """Insert the evaluations (one per check) and their samples as two bulk statements; return
    the new ids in order. Conflict if any slot is already recorded (another worker ran it after
    our lease expired): the caller rolls back, and only the late one is lost when retried alone.
    """
    if not records:
        return []
    if len({r.check_name for r in records}) != len(records):
        raise ValueError("a batch records at most one evaluation per check")
    conn = session.connection()
    try:
        returned = conn.execute(
            _INSERT_EVALUATION,
            [
                {
                    "check_name": r.check_name,
                    "slot_at": r.slot_at,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "duration_ms": round((r.finished_at - r.started_at).total_seconds() * 1000, 3),
                    "status": r.status,
                    "error_kind": r.error_kind,
                    "error": r.error,
                    "worker_id": r.worker_id,
                    "results": [x.as_json() for x in r.results],
                }
                for r in records
            ],
        )
        ids_by_name = {name: evaluation_id for name, evaluation_id in returned}
    except IntegrityError:
        first = records[0]
        what = (
            f"{first.check_name} at {first.slot_at:%H:%M:%S}"
            if len(records) == 1
            else "a slot of the batch"
        )
        raise Conflict(f"{what} was evaluated elsewhere") from None
    ids = [ids_by_name[r.check_name] for r in records]
    samples = [
        {
            "check_name": r.check_name,
            "fingerprint": x.fingerprint,
            "at": r.slot_at,
            "value": x.current,
            "evaluation_id": evaluation_id,
        }
        for r, evaluation_id in zip(records, ids, strict=True)
        for x in r.results
        if x.current is not None
    ]
    if samples:
        conn.execute(_INSERT_SAMPLE, samples)
    return ids


def pending(
    session: Session, check_names: Collection[str]
) -> dict[str, dict[str, tuple[str, datetime]]]:
    """Pending series of several checks in one query, by check then fingerprint."""
    out: dict[str, dict[str, tuple[str, datetime]]] = {name: {} for name in check_names}
    rows = session.connection().execute(
        select(
            SERIES.c.check_name,
            SERIES.c.fingerprint,
            SERIES.c.pending_severity,
            SERIES.c.pending_since,
        ).where(SERIES.c.check_name.in_(list(check_names)))
    )
    for name, fp, severity, since in rows:
        out[name][fp] = (severity, since)
    return out


def pending_of(results: Sequence[RowResult]) -> dict[str, tuple[str, datetime]]:
    """The series of an evaluation still waiting out their `for`."""
    return {
        r.fingerprint: (r.raw_severity, r.pending_since)
        for r in results
        if r.pending_since is not None and r.raw_severity is not None
    }


def save_pending(
    session: Session, check_name: str, series: Mapping[str, tuple[str, datetime]]
) -> None:
    """Replace the check's pending series."""
    session.connection().execute(delete(SERIES).where(SERIES.c.check_name == check_name))
    if series:
        session.connection().execute(
            insert(SERIES),
            [
                {
                    "check_name": check_name,
                    "fingerprint": fp,
                    "pending_severity": severity,
                    "pending_since": since,
                }
                for fp, (severity, since) in series.items()
            ],
        )


def history(
    session: Session, check_name: str, since: datetime, until: datetime
) -> dict[str, list[float]]:
    """Stored samples per series in [since, until), for history baselines."""
    rows = session.execute(
        select(CheckSample.fingerprint, CheckSample.value).where(
            CheckSample.check_name == check_name, CheckSample.at >= since, CheckSample.at < until
        )
    ).all()
    out: dict[str, list[float]] = {}
    for fp, value in rows:
        out.setdefault(fp, []).append(value)
    return out


def schedules(session: Session) -> Sequence[CheckSchedule]:
    return session.scalars(select(CheckSchedule).order_by(CheckSchedule.check_name)).all()
