"""Two workers on one PostgreSQL store share due report runs: each (report, slot) runs and
is posted exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from tests.support.reports import report_config
from tests.support.shop import ValueTable
from tests.support.store import truncate

from tocsin.clock import VirtualClock
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.outbox.models import Notification
from tocsin.reports.models import ReportRun
from tocsin.worker.loop import Worker

REPORTS = 30
NINE_NY = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


def test_two_workers_on_one_postgresql_store_run_each_slot_once(
    pg_database: str, tmp_path: Path
) -> None:
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("failure_rate", 12)
    config = report_config(shop.url, reports=REPORTS)
    clock = VirtualClock(NINE_NY - timedelta(minutes=1))
    engines = [make_engine(pg_database) for _ in range(2)]
    truncate(engines[0])
    workers = [
        Worker(config, make_sessionmaker(e), clock, worker_id=f"w{i}", threads=False)
        for i, e in enumerate(engines)
    ]
    for worker in workers:
        worker.start()  # both plan the same next slots: one row each survives
    clock.advance(timedelta(minutes=1))
    gate = threading.Barrier(2)
    claimed: Counter[str] = Counter()

    def work(worker: Worker) -> None:
        gate.wait()
        while done := worker.run_due_reports():
            claimed[worker.id] += done

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    factory = make_sessionmaker(engines[0])
    with session_scope(factory) as s:
        runs = s.execute(select(ReportRun.report_name, ReportRun.state, ReportRun.slot_at)).all()
        posts = Counter(n.payload["report"] for n in s.scalars(select(Notification)))
    for engine in engines:
        engine.dispose()
    done = Counter(name for name, state, _ in runs if state == "done")
    due = Counter(name for name, state, slot in runs if state == "due" and slot > NINE_NY)
    print(f"\nclaimed per worker: {dict(claimed)}")
    assert sum(claimed.values()) == REPORTS
    assert len(done) == REPORTS
    assert set(done.values()) == {1}, "a slot ran twice"
    assert set(due.values()) == {1}, "each report has one next slot planned"
    assert len(posts) == REPORTS
    assert set(posts.values()) == {1}, "a report was posted twice"
