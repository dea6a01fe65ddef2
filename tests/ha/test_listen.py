"""Wake-ups across instances on PostgreSQL: a transaction that writes due outbox rows runs
`pg_notify`, delivered at its commit (never on rollback) to every worker's `Listener`, which
rings its own doorbell; a real `tocsin run --workers-only` with a 60 s poll interval sends a
notification written by another process at once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.support.loopback import Loopback
from tests.support.processes import TOCSIN, wait_for
from tests.support.store import truncate

from tocsin import actions
from tocsin.actions.alerts import NewAlert
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.outbox.doorbell import Doorbell, written
from tocsin.outbox.listen import Listener
from tocsin.pipeline import Pipeline


@pytest.fixture
def pg(pg_database: str) -> Iterator[Engine]:
    engine = make_engine(pg_database)
    truncate(engine)
    yield engine
    engine.dispose()


def test_a_commit_that_wrote_due_rows_rings_a_listener_on_another_connection(pg: Engine) -> None:
    bell = Doorbell()
    listener = Listener(make_engine(str(pg.url.render_as_string(hide_password=False))), bell)
    listener.start()
    try:
        wait_for(listener.listening.is_set, timeout=30)
        factory = make_sessionmaker(pg)  # another engine: another instance, as far as PG knows
        with factory() as session, session.begin():
            written(session)
            written(session)  # twice in one transaction: one notification
            session.rollback()  # and a rollback: none at all
        with session_scope(factory) as session:
            written(session)
            written(session)
        wait_for(lambda: listener.heard >= 1, timeout=30)
        assert bell.wait(0)
        with session_scope(factory) as session:  # a later commit is heard too
            written(session)
        wait_for(lambda: listener.heard >= 2, timeout=30)
        assert listener.heard == 2
    finally:
        listener.stop()


def test_a_worker_process_sends_a_row_another_process_committed_without_waiting_to_poll(
    tmp_path: Path, pg: Engine
) -> None:
    hook = Loopback()
    url = pg.url.render_as_string(hide_password=False)
    config_text = (
        f'store: {{url: "{url}"}}\n'
        "worker: {poll_interval: 60s}\n"
        f'channels:\n  hook: {{type: webhook, url: "{hook.url}/hook"}}\n'
        "routes: {notify: [hook]}\n"
    )
    (tmp_path / "tocsin.yaml").write_text(config_text)
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        worker = subprocess.Popen(
            [*TOCSIN, "run", "--workers-only", "-v", "-c", str(tmp_path / "tocsin.yaml")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        wait_for(lambda: "listening for outbox rows" in log.read_text(), timeout=60)
        # Its sender has polled once at start and now sleeps up to 60 s unless woken.
        config, _ = parse(config_text, "tocsin.yaml", env={})
        with session_scope(make_sessionmaker(pg)) as session:
            actions.alerts.fire(
                session,
                Pipeline(config),
                NewAlert(
                    fingerprint="listen-1",
                    origin="test",
                    labels={"n": "1"},
                    severity="CRITICAL",
                    title="woken across processes",
                    message="",
                ),
                SystemClock().now(),
            )
        wait_for(lambda: len(hook.requests) == 1, timeout=30)
        assert b"woken across processes" in hook.requests[0].body
    finally:
        worker.terminate()
        worker.wait(30)
        hook.stop()


def test_a_rolled_back_savepoint_does_not_silence_the_rest_of_its_transaction(pg: Engine) -> None:
    """The group-commit writer redoes a failed job's siblings in savepoints: rows written after
    one was rolled back still wake the other instances."""
    bell = Doorbell()
    listener = Listener(make_engine(str(pg.url.render_as_string(hide_password=False))), bell)
    listener.start()
    try:
        wait_for(listener.listening.is_set, timeout=30)
        with session_scope(make_sessionmaker(pg)) as session:
            savepoint = session.begin_nested()
            written(session)
            savepoint.rollback()  # its pg_notify goes with it
            with session.begin_nested():
                written(session)  # a later job's rows
        wait_for(lambda: listener.heard >= 1, timeout=30)
    finally:
        listener.stop()
