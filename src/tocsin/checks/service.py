"""Check schedules as due rows, evaluations, pending series and samples, over a session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.checks.evaluate import RowResult, first_slot, next_slot, schedule_key
from tocsin.checks.models import CheckSample, CheckSchedule, CheckSeries, Evaluation
from tocsin.config import CheckConfig
from tocsin.db import is_postgresql
from tocsin.errors import Conflict


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
    """Lease due slots. Compare-and-set on (next_run_at, lease) so two workers never both
    take one slot; on PostgreSQL SKIP LOCKED keeps them from queueing behind each other."""
    free = (CheckSchedule.lease_until.is_(None)) | (CheckSchedule.lease_until <= now)
    query = (
        select(CheckSchedule)
        .where(CheckSchedule.next_run_at <= now, free)
        .order_by(CheckSchedule.next_run_at)
        .limit(limit)
    )
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    claims = []
    for row in session.scalars(query).all():
        result = session.execute(
            update(CheckSchedule)
            .where(
                CheckSchedule.check_name == row.check_name,
                CheckSchedule.next_run_at == row.next_run_at,
                free,
            )
            .values(lease_owner=owner, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claims.append(Claim(row.check_name, row.next_run_at, owner, row.consecutive_errors))
    return claims


def complete(
    session: Session, claim: Claim, check: CheckConfig, now: datetime, consecutive_errors: int
) -> datetime:
    """Advance the schedule past the claimed slot; Conflict if the lease was lost meanwhile
    (the caller's transaction must then roll back everything it wrote)."""
    following = next_slot(check.schedule, claim.slot_at, now)
    result = session.execute(
        update(CheckSchedule)
        .where(
            CheckSchedule.check_name == claim.check_name,
            CheckSchedule.next_run_at == claim.slot_at,
            CheckSchedule.lease_owner == claim.owner,
        )
        .values(
            next_run_at=following,
            lease_owner=None,
            lease_until=None,
            last_run_at=now,
            consecutive_errors=consecutive_errors,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"lost the lease on {claim.check_name} at {claim.slot_at:%H:%M:%S}")
    return following


def release(session: Session, claim: Claim) -> None:
    session.execute(
        update(CheckSchedule)
        .where(
            CheckSchedule.check_name == claim.check_name, CheckSchedule.lease_owner == claim.owner
        )
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def record(
    session: Session,
    *,
    check_name: str,
    slot_at: datetime,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    results: Sequence[RowResult],
    error_kind: str | None = None,
    error: str | None = None,
    worker_id: str | None = None,
) -> Evaluation:
    evaluation = Evaluation(
        check_name=check_name,
        slot_at=slot_at,
        started_at=started_at,
        finished_at=finished_at,
        duration_ms=round((finished_at - started_at).total_seconds() * 1000, 3),
        status=status,
        error_kind=error_kind,
        error=error,
        worker_id=worker_id,
        results=[r.as_json() for r in results],
    )
    session.add(evaluation)
    try:
        session.flush()
    except IntegrityError:
        # The slot is already recorded: another worker ran it after our lease expired.
        raise Conflict(f"{check_name} at {slot_at:%H:%M:%S} was evaluated elsewhere") from None
    samples = [
        CheckSample(
            check_name=check_name,
            fingerprint=r.fingerprint,
            at=slot_at,
            value=r.current,
            evaluation_id=evaluation.id,
        )
        for r in results
        if r.current is not None
    ]
    session.add_all(samples)
    return evaluation


def pending(session: Session, check_name: str) -> dict[str, tuple[str, datetime]]:
    rows = session.scalars(select(CheckSeries).where(CheckSeries.check_name == check_name))
    return {r.fingerprint: (r.pending_severity, r.pending_since) for r in rows}


def save_pending(session: Session, check_name: str, results: Sequence[RowResult]) -> None:
    """Replace the check's pending series with those still waiting out their `for`."""
    session.execute(delete(CheckSeries).where(CheckSeries.check_name == check_name))
    session.add_all(
        CheckSeries(
            check_name=check_name,
            fingerprint=r.fingerprint,
            pending_severity=r.raw_severity,
            pending_since=r.pending_since,
        )
        for r in results
        if r.pending_since is not None and r.raw_severity is not None
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
