"""Retention: evaluations, their stored values and finished report runs past their time are
deleted in batches, the rest kept; once an hour across instances (two workers on one
PostgreSQL store: the hour is pruned once, every old row deleted exactly once)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.store import truncate

from tocsin.checks.models import CheckSample, Evaluation
from tocsin.config.reports import RetentionConfig
from tocsin.db import make_engine, make_sessionmaker, read_scope, session_scope
from tocsin.periodic import JobSlot
from tocsin.reports import retention
from tocsin.reports.models import ReportRun

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def history(factory: sessionmaker[Session], days: int = 100, per_day: int = 12) -> None:
    """`per_day` evaluations (each with two values) a day for `days` days before NOW, and
    one report run a day for 500 days (one of them still due)."""
    with session_scope(factory) as s:
        rows: list[dict[str, Any]] = []
        for d in range(days):
            for i in range(per_day):
                at = NOW - d * DAY - timedelta(hours=2 * i)
                rows.append(
                    {
                        "check_name": "c",
                        "slot_at": at,
                        "started_at": at,
                        "finished_at": at,
                        "duration_ms": 1.0,
                        "status": "ok",
                        "results": [],
                    }
                )
        s.execute(insert(Evaluation), rows)
        ids = s.execute(select(Evaluation.id, Evaluation.slot_at)).all()
        s.execute(
            insert(CheckSample),
            [
                {"check_name": "c", "fingerprint": f, "at": at, "value": 1.0, "evaluation_id": i}
                for i, at in ids
                for f in ("a" * 32, "b" * 32)
            ],
        )
        s.execute(
            insert(ReportRun),
            [
                {
                    "report_name": "daily",
                    "trigger": "schedule",
                    "slot_at": NOW - d * DAY,
                    "schedule_key": "k",
                    "state": "done" if d else "due",
                    "attempts": 1,
                    "posted": 0,
                }
                for d in range(500)
            ],
        )


def old_left(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with read_scope(factory) as s:
        return (
            s.scalar(select(func.count()).where(Evaluation.started_at < NOW - 90 * DAY)) or 0,
            s.scalar(select(func.count()).where(CheckSample.at < NOW - 90 * DAY)) or 0,
            s.scalar(select(func.count()).where(ReportRun.slot_at < NOW - 400 * DAY)) or 0,
        )


def test_old_rows_go_in_batches_and_the_rest_stays(factory: sessionmaker[Session]) -> None:
    history(factory)
    done = retention.prune(factory, RetentionConfig(batch=50), NOW)
    # Evaluations older than 90 days: days 90..99, but for the one exactly at the cutoff; their
    # values go with them (none is left for the second pass); runs of days 401..499.
    assert done == {"evaluations": 119, "samples": 0, "report_runs": 99}
    assert old_left(factory) == (0, 0, 0)
    with read_scope(factory) as s:
        counts = retention.counts(s)
    assert counts == {"evaluations": 1081, "samples": 2162, "report_runs": 401}
    assert retention.prune(factory, RetentionConfig(batch=50), NOW) == {
        "evaluations": 0,
        "samples": 0,
        "report_runs": 0,
    }


def test_two_workers_prune_the_hour_once(pg_database: str) -> None:
    engines = [make_engine(pg_database) for _ in range(2)]
    truncate(engines[0])
    factories = [make_sessionmaker(e) for e in engines]
    history(factories[0])
    gate = threading.Barrier(2)
    deleted = [0, 0]

    def work(i: int) -> None:
        gate.wait()
        policy = RetentionConfig(batch=25)
        deleted[i] = retention.prune_due(factories[i], policy, f"w{i}", NOW, timedelta(minutes=5))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\nrows deleted per worker: {deleted}")
    assert sorted(deleted) == [0, 119 + 99]  # one worker had the hour
    assert old_left(factories[0]) == (0, 0, 0)
    with read_scope(factories[0]) as s:
        (slot,) = s.execute(
            select(JobSlot.owner, JobSlot.done_at).where(JobSlot.job == "retention")
        ).all()
    assert slot.done_at is not None
    # The same hour again: nobody prunes.
    assert (
        retention.prune_due(factories[1], RetentionConfig(), "w1", NOW, timedelta(minutes=5)) == 0
    )
    for engine in engines:
        engine.dispose()
