"""The rows of step runs: asked for, claimed, ended, approved. Functions over a session; none
commits (the worker step, the CLI command or the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.errors import Conflict, NotFound
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.steps import Captured, Result

CLAIM_LIMIT = 10


@dataclass(frozen=True)
class Claim:
    """A worker's lease on one run, and what running it needs."""

    run_id: int
    owner: str
    attempts: int
    mode: str
    started_at: datetime


def get(session: Session, run_id: int) -> RunbookRun:
    row = session.get(RunbookRun, run_id)
    if row is None:
        raise NotFound(f"no runbook run {run_id}")
    return row


def list_(
    session: Session,
    *,
    incident_id: str | None = None,
    runbook_id: str | None = None,
    purpose: str | None = None,
    limit: int = 200,
) -> list[RunbookRun]:
    query = select(RunbookRun).order_by(RunbookRun.id.desc()).limit(limit)
    if incident_id is not None:
        query = query.where(RunbookRun.incident_id == incident_id)
    if runbook_id is not None:
        query = query.where(RunbookRun.runbook_id == runbook_id)
    if purpose is not None:
        query = query.where(RunbookRun.purpose == purpose)
    return list(session.scalars(query))


def due(now: datetime) -> Any:
    """Queued and approved where it must be; or running under a lease that ran out (its
    worker died mid-step)."""
    queued = and_(
        RunbookRun.state == "queued",
        or_(RunbookRun.mode == "read", RunbookRun.approved_at.is_not(None)),
    )
    abandoned = and_(RunbookRun.state == "running", RunbookRun.lease_until <= now)
    return or_(queued, abandoned)


def any_due(session: Session, now: datetime, ids: Sequence[int] | None = None) -> bool:
    query = select(RunbookRun.id).where(due(now))
    if ids is not None:
        query = query.where(RunbookRun.id.in_(list(ids)))
    return session.scalar(query.limit(1)) is not None


def claim_due(
    session: Session,
    owner: str,
    now: datetime,
    lease: Callable[[RunbookRun], timedelta],
    *,
    ids: Sequence[int] | None = None,
    limit: int = CLAIM_LIMIT,
) -> list[Claim]:
    """Lease due runs (only `ids` when given): read them `FOR UPDATE SKIP LOCKED`, then take
    each by a compare-and-set on the state and lease it was read in. `lease(row)` is how long
    each is held: longer than the step's own timeout, so no renewal is needed while it runs."""
    query = select(RunbookRun).where(due(now)).order_by(RunbookRun.id).limit(limit)
    if ids is not None:
        query = query.where(RunbookRun.id.in_(list(ids)))
    taken = []
    for row in claims.due(session, query):
        if not claims.take(
            session,
            RunbookRun,
            RunbookRun.id == row.id,
            expect=[RunbookRun.state == row.state, _same_lease(row)],
            values={
                "state": "running",
                "lease_owner": owner,
                "lease_until": now + lease(row),
                "started_at": now,
                "attempts": row.attempts + 1,
            },
        ):
            continue
        taken.append(Claim(row.id, owner, row.attempts + 1, row.mode, now))
    return taken


def _same_lease(row: RunbookRun) -> Any:
    if row.lease_until is None:
        return RunbookRun.lease_until.is_(None)
    return RunbookRun.lease_until == row.lease_until


def finish(
    session: Session, claim: Claim, result: Result, captured: Captured, now: datetime
) -> RunbookRun:
    """End a claimed run by a compare-and-set on its lease; Conflict when the lease was lost
    (another worker took the run over and will end it)."""
    if not claims.take(
        session,
        RunbookRun,
        RunbookRun.id == claim.run_id,
        expect=[RunbookRun.state == "running", RunbookRun.lease_owner == claim.owner],
        values={
            "state": result.state,
            "lease_owner": None,
            "lease_until": None,
            "finished_at": now,
            "duration_ms": result.duration_ms,
            "exit_status": result.exit_status,
            "row_count": result.row_count,
            "output": captured.text,
            "output_bytes": captured.size,
            "output_sha256": captured.sha256,
            "truncated": captured.truncated,
            "error": result.error,
            "tests": result.tests,
        },
    ):
        raise Conflict(f"runbook run {claim.run_id}: the lease was lost to another worker")
    row = get(session, claim.run_id)
    session.refresh(row)
    return row


def end_unrun(session: Session, row: RunbookRun, state: str, error: str, now: datetime) -> None:
    """End a run without running it (refused, or a write whose worker died mid-step)."""
    row.state, row.error, row.finished_at = state, error, now
    row.lease_owner = row.lease_until = None


def approve(session: Session, row: RunbookRun, by: str, now: datetime) -> None:
    if row.mode != "write":
        raise Conflict(f"runbook run {row.id} is read-only: it needs no approval")
    if row.state != "queued":
        raise Conflict(f"runbook run {row.id} is {row.state}: it can no longer be approved")
    if row.approved_at is not None:
        raise Conflict(f"runbook run {row.id} was approved by {row.approved_by} already")
    row.approved_by, row.approved_at = by, now


def last_outputs(session: Session, incident_id: str, runbook_id: str) -> dict[int, RunbookRun]:
    """The latest run of each block (by its line) of a runbook for an incident."""
    out: dict[int, RunbookRun] = {}
    for row in list_(session, incident_id=incident_id, runbook_id=runbook_id):
        out.setdefault(row.line, row)
    return out
