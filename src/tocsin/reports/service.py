"""Report runs over a session: the next slot written ahead, due slots claimed once across
workers, runs completed by compare-and-set, stored runs listed and read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.config.reports import ReportConfig
from tocsin.db import is_postgresql
from tocsin.errors import Conflict, NotFound
from tocsin.reports.models import ReportRun
from tocsin.reports.schedule import next_slot, schedule_key

RUN = cast(Table, ReportRun.__table__)


@dataclass(frozen=True)
class Claim:
    """A worker's lease on one scheduled run."""

    run_id: int
    report_name: str
    slot_at: datetime
    owner: str


def _plan(session: Session, name: str, report: ReportConfig, after: datetime) -> None:
    """Write the run of the first slot after `after`; a row already there (another worker
    wrote it) is left alone, so this is safe to race."""
    values = {
        "report_name": name,
        "trigger": "schedule",
        "slot_at": next_slot(report.schedule, after),
        "schedule_key": schedule_key(report.schedule),
        "state": "due",
        "attempts": 0,
        "posted": 0,
    }
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    session.execute(insert(RUN).values(values).on_conflict_do_nothing())


def sync(session: Session, reports: Mapping[str, ReportConfig], now: datetime) -> None:
    """Make the due rows match the configuration: each enabled report has one run ahead
    (a run left due by downtime counts: it runs once when the worker is back); due rows of
    removed or disabled reports, or of a schedule that changed, are dropped."""
    wanted = {name: r for name, r in reports.items() if r.enabled}
    pending = session.execute(
        select(RUN.c.id, RUN.c.report_name, RUN.c.schedule_key).where(
            RUN.c.trigger == "schedule", RUN.c.state.in_(("due", "running"))
        )
    ).all()
    stale = [
        row.id
        for row in pending
        if row.report_name not in wanted
        or row.schedule_key != schedule_key(wanted[row.report_name].schedule)
    ]
    if stale:
        session.execute(delete(RUN).where(RUN.c.id.in_(stale), RUN.c.state == "due"))
    kept = {row.report_name for row in pending if row.id not in stale}
    for name, report in wanted.items():
        if name not in kept:
            _plan(session, name, report, now)


def _free(now: datetime) -> Any:
    """Due and unclaimed, or claimed by a worker whose lease ran out (it died mid-run)."""
    return ((RUN.c.state == "due") & (RUN.c.slot_at <= now)) | (
        (RUN.c.state == "running") & (RUN.c.lease_until <= now)
    )


def claim_due(
    session: Session, owner: str, now: datetime, lease: timedelta, limit: int = 10
) -> list[Claim]:
    """Lease due runs: read up to `limit` of them (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so
    two workers take different rows without queueing), then set the lease by id with the
    due-and-free test repeated (a compare-and-set: a run taken meanwhile is not taken twice).
    Two statements, because PostgreSQL may run a `LIMIT` subquery inside an `UPDATE … WHERE
    id IN (…)` more than once and so lease more than `limit` rows."""
    due = (
        select(RUN.c.id)
        .where(RUN.c.trigger == "schedule", _free(now))
        .order_by(RUN.c.slot_at)
        .limit(limit)
    )
    if is_postgresql(session):
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    rows = session.execute(
        update(RUN)
        .where(RUN.c.id.in_(ids), _free(now))
        .values(
            state="running",
            lease_owner=owner,
            lease_until=now + lease,
            started_at=now,
            attempts=RUN.c.attempts + 1,
        )
        .returning(RUN.c.id, RUN.c.report_name, RUN.c.slot_at)
    ).all()
    return sorted(
        (Claim(row.id, row.report_name, row.slot_at, owner) for row in rows),
        key=lambda c: (c.slot_at, c.run_id),
    )


@dataclass(frozen=True)
class Outcome:
    """What a run stores: its rendered content, status, figures and their hash."""

    status: str
    content: str
    figures: dict[str, Any]
    content_hash: str

    def columns(self, now: datetime, posted: int) -> dict[str, Any]:
        """The run's columns once done."""
        return {
            "state": "done",
            "finished_at": now,
            "status": self.status,
            "content": self.content,
            "figures": self.figures,
            "content_hash": self.content_hash,
            "posted": posted,
        }


def complete(
    session: Session,
    claim: Claim,
    outcome: Outcome,
    now: datetime,
    report: ReportConfig | None,
    posted: int = 0,
) -> None:
    """Store the outcome as a compare-and-set on the lease; Conflict when the lease was lost
    (the caller's transaction must then roll back what it wrote, its posts too). Then plan
    the report's next slot after `now`: slots missed meanwhile are not run again."""
    done = session.connection().execute(
        update(RUN)
        .where(RUN.c.id == claim.run_id, RUN.c.state == "running", RUN.c.lease_owner == claim.owner)
        .values(lease_owner=None, lease_until=None, **outcome.columns(now, posted))
    )
    if done.rowcount != 1:
        raise Conflict(f"report run {claim.run_id}: the lease was lost to another worker")
    if report is not None and report.enabled:
        _plan(session, claim.report_name, report, max(now, claim.slot_at))


def release(session: Session, claim: Claim) -> None:
    """Drop a claimed run whose report left the configuration."""
    session.execute(delete(RUN).where(RUN.c.id == claim.run_id, RUN.c.lease_owner == claim.owner))


def record_manual(
    session: Session, name: str, at: datetime, outcome: Outcome, now: datetime, posted: int = 0
) -> int:
    """Store a run asked for by hand (`tocsin report run`); one at the same time replaces it."""
    session.execute(
        delete(RUN).where(RUN.c.report_name == name, RUN.c.trigger == "manual", RUN.c.slot_at == at)
    )
    row = ReportRun(
        report_name=name,
        trigger="manual",
        slot_at=at,
        schedule_key="",
        attempts=1,
        started_at=now,
        **outcome.columns(now, posted),
    )
    session.add(row)
    session.flush()
    return row.id


def get(session: Session, run_id: int) -> ReportRun:
    run = session.get(ReportRun, run_id)
    if run is None:
        raise NotFound(f"report run {run_id} does not exist")
    return run


def list_(session: Session, name: str | None = None, limit: int = 50) -> list[ReportRun]:
    """Finished runs, newest first (of one report when named)."""
    query = select(ReportRun).where(ReportRun.state == "done")
    if name is not None:
        query = query.where(ReportRun.report_name == name)
    query = query.order_by(ReportRun.slot_at.desc(), ReportRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def next_due(session: Session) -> dict[str, datetime]:
    """Each report's next scheduled slot."""
    rows = session.execute(
        select(RUN.c.report_name, RUN.c.slot_at).where(
            RUN.c.trigger == "schedule", RUN.c.state.in_(("due", "running"))
        )
    ).all()
    return {row.report_name: row.slot_at for row in rows}
