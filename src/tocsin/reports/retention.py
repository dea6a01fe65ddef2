"""Pruning what piles up: check evaluations and their stored values past `retention.raw`,
finished report runs past `retention.report_runs`. Once an hour across instances (a
`periodic` slot leased outside any transaction), then batches of `retention.batch` rows,
each in a transaction of its own, oldest first, so the writer is never held for long."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import periodic
from tocsin.checks.models import CheckSample, Evaluation
from tocsin.config.reports import RetentionConfig
from tocsin.db import session_scope
from tocsin.reports.models import ReportRun

log = logging.getLogger("tocsin.retention")

JOB = "retention"
EVERY = timedelta(hours=1)
Batch = Callable[[Session, datetime, int], int]


def _oldest(session: Session, column: Any, where: Any, size: int) -> list[int]:
    """The ids of up to `size` rows matching `where`, oldest (lowest id) first."""
    return list(session.scalars(select(column).where(where).order_by(column).limit(size)))


def _evaluations(session: Session, cutoff: datetime, size: int) -> int:
    ids = _oldest(session, Evaluation.id, Evaluation.started_at < cutoff, size)
    if ids:
        # Its stored values first: SQLite enforces no ON DELETE CASCADE unless told to.
        session.execute(delete(CheckSample).where(CheckSample.evaluation_id.in_(ids)))
        session.execute(delete(Evaluation).where(Evaluation.id.in_(ids)))
    return len(ids)


def _samples(session: Session, cutoff: datetime, size: int) -> int:
    ids = _oldest(session, CheckSample.id, CheckSample.at < cutoff, size)
    if ids:
        session.execute(delete(CheckSample).where(CheckSample.id.in_(ids)))
    return len(ids)


def _runs(session: Session, cutoff: datetime, size: int) -> int:
    finished = (ReportRun.state == "done") & (ReportRun.slot_at < cutoff)
    ids = _oldest(session, ReportRun.id, finished, size)
    if ids:
        session.execute(delete(ReportRun).where(ReportRun.id.in_(ids)))
    return len(ids)


def prune(
    factory: sessionmaker[Session], retention: RetentionConfig, now: datetime
) -> dict[str, int]:
    """Delete everything past its retention, batch by batch; the rows deleted, by kind."""
    plan: list[tuple[str, Batch, datetime]] = [
        ("evaluations", _evaluations, now - retention.raw),
        ("samples", _samples, now - retention.raw),
        ("report_runs", _runs, now - retention.report_runs),
    ]
    done: dict[str, int] = {}
    for kind, batch, cutoff in plan:
        done[kind] = 0
        while True:
            with session_scope(factory) as session:
                deleted = batch(session, cutoff, retention.batch)
            done[kind] += deleted
            if deleted < retention.batch:
                break
    return done


def prune_due(
    factory: sessionmaker[Session],
    retention: RetentionConfig,
    owner: str,
    now: datetime,
    lease: timedelta,
    clock_now: Callable[[], datetime] | None = None,
) -> int:
    """Prune once for this hour across instances: lease the hour's slot, prune, mark it
    done. Returns the rows deleted (0 when another instance has the hour)."""
    slot = periodic.slot_at(now, EVERY)
    with session_scope(factory) as session:
        mine = periodic.claim(session, JOB, slot, owner, now, lease)
    if not mine:
        return 0
    done = prune(factory, retention, now)
    with session_scope(factory) as session:
        periodic.finish(session, JOB, slot, owner, (clock_now or (lambda: now))())
    total = sum(done.values())
    if total:
        log.info("pruned %s", ", ".join(f"{n} {kind}" for kind, n in done.items() if n))
    return total


def counts(session: Session) -> dict[str, Any]:
    """What the store holds of what retention prunes."""
    return {
        "evaluations": session.scalar(select(func.count()).select_from(Evaluation)),
        "samples": session.scalar(select(func.count()).select_from(CheckSample)),
        "report_runs": session.scalar(select(func.count()).select_from(ReportRun)),
    }
