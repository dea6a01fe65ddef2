"""SQLite's one writer, queued in arrival order inside the process (`tocsin.db.FairLock`)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tocsin.db import FairLock, make_engine, make_sessionmaker, read_scope, session_scope


def test_the_lock_is_handed_over_in_arrival_order() -> None:
    lock = FairLock()
    assert lock.acquire()
    order: list[int] = []
    queued = []
    threads = []
    for n in range(5):
        arrived = threading.Event()

        def wait_turn(n: int = n, arrived: threading.Event = arrived) -> None:
            arrived.set()
            lock.acquire()
            order.append(n)
            lock.release()

        thread = threading.Thread(target=wait_turn)
        thread.start()
        arrived.wait()
        # Spin until this thread is in the queue, so arrival order is known.
        while len(lock._waiting) < n + 1:
            threading.Event().wait(0.001)
        queued.append(n)
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join()
    assert order == queued == [0, 1, 2, 3, 4]


def test_a_wait_that_times_out_gives_up_its_place() -> None:
    lock = FairLock()
    assert lock.acquire()
    assert lock.acquire(timeout=0.01) is False
    assert not lock._waiting
    lock.release()
    assert lock.acquire(timeout=0.01) is True  # free again, not left held by the quitter
    lock.release()


def test_a_thread_committing_back_to_back_cannot_starve_another(tmp_path: Path) -> None:
    """The API's group writer commits back to back under load; the sender must still get in.
    With SQLite's busy handler alone the waiter sleeps between polls and the hog takes the
    lock again each time it lets go; queued, the waiter goes next."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        session.execute(text("CREATE TABLE log (who TEXT)"))
    stop = threading.Event()
    running = threading.Event()
    commits = [0]

    def hog() -> None:
        while not stop.is_set():
            with session_scope(factory) as session:
                session.execute(text("INSERT INTO log (who) VALUES ('hog')"))
                stop.wait(0.005)  # a group of writes takes a while; the gap between is tiny
            commits[0] += 1
            running.set()

    thread = threading.Thread(target=hog)
    thread.start()
    try:
        running.wait()
        waits = []
        for _ in range(5):
            first = commits[0]
            with session_scope(factory) as session:
                session.execute(text("INSERT INTO log (who) VALUES ('other')"))
            waits.append(commits[0] - first)
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    # Behind the transaction under way when it queued, and perhaps one that began as it did.
    assert max(waits) <= 2, f"the waiter let {waits} of the hog's transactions go first"


def test_a_lock_held_past_the_wait_fails_clearly_and_frees_nothing(tmp_path: Path) -> None:
    import tocsin.db as db

    engine = make_engine(f"sqlite:///{tmp_path / 'held.db'}")
    factory = make_sessionmaker(engine)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with session_scope(factory) as session:
            session.execute(text("SELECT 1"))
            holding.set()
            done.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait()
    wait, db.SQLITE_WAIT = db.SQLITE_WAIT, 0.05
    try:
        with (
            pytest.raises(OperationalError, match="database is locked"),
            session_scope(factory) as session,
        ):
            session.execute(text("SELECT 1"))
    finally:
        db.SQLITE_WAIT = wait
        done.set()
        thread.join()
    with session_scope(factory) as session:  # the lock was released by its holder
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_a_reader_does_not_wait_for_the_writer_and_cannot_write(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    writing, read_done = threading.Event(), threading.Event()

    def write() -> None:
        with session_scope(factory) as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
            writing.set()
            read_done.wait(30)  # holds the write lock until the reader is through

    thread = threading.Thread(target=write)
    thread.start()
    writing.wait()
    try:
        with read_scope(factory) as session:  # would queue behind the writer if it locked
            seen = session.execute(text("SELECT n FROM t")).scalars().all()
        reader_finished_first = not read_done.is_set()
    finally:
        read_done.set()
        thread.join()
    assert reader_finished_first
    assert seen == [1]  # the last commit, not the writer's uncommitted row
    with read_scope(factory) as session, pytest.raises(OperationalError, match="readonly"):
        session.execute(text("INSERT INTO t VALUES (3)"))
    with read_scope(factory) as session:
        assert session.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]
    engine.dispose()
