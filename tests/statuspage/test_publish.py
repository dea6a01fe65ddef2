"""`status.publish`: the worker re-exports the page to a folder when its due row comes due,
and of two workers on one store only one exports each time."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.status import fire, status_config

from tocsin.clock import VirtualClock
from tocsin.db import is_postgresql, session_scope
from tocsin.statuspage import publish
from tocsin.statuspage.models import StatusPublish
from tocsin.worker.loop import Worker


def publishing(folder: Path) -> str:
    return f"  publish: {{path: '{folder}', within: 30s}}\n"


def indicator(folder: Path) -> str:
    summary = json.loads((folder / "api/v2/summary.json").read_text())
    found: str = summary["status"]["indicator"]
    return found


def test_a_change_reaches_the_folder_within_a_minute(
    factory: sessionmaker[Session], clock: VirtualClock, tmp_path: Path
) -> None:
    config = status_config(publishing(tmp_path / "site"))
    worker = Worker(config, factory, clock, worker_id="w1", console_write=[].append, threads=False)
    assert "status publish" in [step.name for step in worker.steps]
    worker.start()
    worker.tick(send=False)
    assert indicator(tmp_path / "site") == "none"
    fire(factory, clock.now(), "CRITICAL", service="payments")
    clock.advance(timedelta(seconds=10))
    worker.tick(send=False)  # not due yet: the folder still says what it said
    assert indicator(tmp_path / "site") == "none"
    clock.advance(timedelta(seconds=21))
    worker.tick(send=False)
    assert indicator(tmp_path / "site") == "critical"  # 31 s after the change
    with session_scope(factory) as session:
        row = session.scalars(select(StatusPublish)).one()
        assert row.exported_at == clock.now()
        assert row.due_at == clock.now() + timedelta(seconds=30)
        assert row.lease_owner is None


def test_two_workers_never_both_claim_one_publish(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    with session_scope(factory) as session:
        publish.ensure(session, "/srv/status", now)
    with session_scope(factory) as session:
        publish.ensure(session, "/srv/status", now)  # the second worker's start: no error
    first = factory()
    try:
        assert publish.claim(first, "/srv/status", "w1", now)
        if is_postgresql(first):  # w1 has not committed: w2 skips the locked row at once
            with session_scope(factory) as session:
                assert not publish.claim(session, "/srv/status", "w2", now)
        first.commit()  # (SQLite's one writer would make w2 wait here instead)
        with session_scope(factory) as session:
            assert not publish.claim(session, "/srv/status", "w2", now)
    finally:
        first.close()
    with session_scope(factory) as session:
        assert not publish.record(session, "/srv/status", "w2", now, timedelta(seconds=30), None)
        assert publish.record(session, "/srv/status", "w1", now, timedelta(seconds=30), None)
    with session_scope(factory) as session:
        assert not publish.claim(session, "/srv/status", "w2", now + timedelta(seconds=29))
        assert publish.claim(session, "/srv/status", "w2", now + timedelta(seconds=30))


def test_a_lease_left_by_a_killed_worker_is_taken_over(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    with session_scope(factory) as session:
        publish.ensure(session, "/srv/status", now)
        assert publish.claim(session, "/srv/status", "w1", now)
    later = now + publish.LEASE
    with session_scope(factory) as session:
        assert publish.claim(session, "/srv/status", "w2", later)
        assert not publish.record(session, "/srv/status", "w1", later, timedelta(seconds=30), None)


def test_a_folder_that_cannot_be_written_is_recorded_and_retried(
    factory: sessionmaker[Session], clock: VirtualClock, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    config = status_config(publishing(blocker / "site")).status
    url = "https://x/status"
    assert publish.run_due(factory, config, url, clock.now(), "w1", clock.now()) == 0
    with session_scope(factory) as session:
        row = session.scalars(select(StatusPublish)).one()
        assert row.last_error is not None
        assert "Error" in row.last_error
        assert row.exported_at is None
        assert row.lease_owner is None
