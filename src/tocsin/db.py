"""The store: declarative base, engine and session scope. Imports no domain."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


SQLITE_WAIT = 30.0  # seconds a transaction waits for SQLite's one writer before failing
READ_ONLY = "tocsin_read_only"  # execution option: a transaction that only reads (`read_scope`)


class FairLock:
    """A lock handed over in arrival order. SQLite lets one transaction write at a time and
    its busy handler polls with sleeps of up to 100 ms, so a thread that commits back to back
    (the API's group writer under load) can starve one that waits (the sender): queueing on
    this lock instead gives each waiting thread its turn, first come, first served."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self, timeout: float = -1) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release(): the lock is ours
        with self._mutex:
            if turn in self._waiting:  # nobody handed it over: give up our place
                self._waiting.remove(turn)
                return False
        return True  # handed over just as the wait timed out

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # stays held: it passes to the next in line
            else:
                self._held = False


_FILE_LOCKS: dict[str, FairLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(database: str) -> FairLock:
    """One lock per database file per process, shared by every engine opened on it."""
    key = os.path.realpath(database)
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, FairLock())


class _SQLiteConnection(sqlite3.Connection):
    """Releases the process's write lock for this file when its transaction ends, after the
    COMMIT or ROLLBACK itself (SQLAlchemy's commit event fires before it)."""

    tocsin_lock: FairLock | None = None
    tocsin_reading = False  # in a `read_scope`: `query_only` is on until it ends

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.tocsin_release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.tocsin_release()

    def close(self) -> None:
        self.tocsin_reading = False
        try:
            super().close()
        finally:
            self.tocsin_release()

    def tocsin_read(self) -> None:
        self.execute("PRAGMA query_only=1")
        self.tocsin_reading = True

    def tocsin_release(self) -> None:
        if self.tocsin_reading:
            self.tocsin_reading = False
            self.execute("PRAGMA query_only=0")
        lock, self.tocsin_lock = self.tocsin_lock, None
        if lock is not None:
            lock.release()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Open the store; SQLite gets WAL, a busy timeout, foreign keys and, per file, one
    in-process queue for its single writer (`FairLock`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        kwargs.setdefault(
            "connect_args",
            {"timeout": SQLITE_WAIT, "check_same_thread": False, "factory": _SQLiteConnection},
        )
        if memory:
            kwargs.setdefault("poolclass", NullPool)
        else:
            # Enough kept open for the API's worker threads reading at once: beyond the
            # pool, each checkout opens (and closes) a connection, setting its pragmas again.
            kwargs.setdefault("pool_size", 20)
        engine = create_engine(url, **kwargs)
        lock = None if memory else _file_lock(str(parsed.database))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself so transactions are real (pysqlite defers them).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at each commit: a committed
            # transaction survives a crash of the process (the WAL is in the OS's hands),
            # only a power loss or an OS crash can lose the last commits before a checkpoint.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_WAIT * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front, so compare-and-set never hits a
            # deadlock between two readers that both want to write. Threads of this process
            # queue for it on the file's FairLock first (other processes still meet SQLite's
            # busy handler).
            raw = conn.connection.dbapi_connection
            if conn.get_execution_options().get(READ_ONLY) and isinstance(raw, _SQLiteConnection):
                # A reader takes no lock: WAL gives it a snapshot while the writer goes on.
                # `query_only` makes a write in it fail rather than take SQLite's lock
                # behind the queue's back.
                raw.tocsin_read()
                conn.exec_driver_sql("BEGIN")
                return
            held = lock is not None and isinstance(raw, _SQLiteConnection)
            if held:
                assert lock is not None
                if not lock.acquire(timeout=SQLITE_WAIT):
                    raise OperationalError(
                        "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                    )
                raw.tocsin_lock = lock
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                if held:
                    raw.tocsin_release()
                raise

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads, rolled back at the end. On SQLite it is a deferred
    transaction outside the writers' queue (a snapshot of the last commit; a write in it
    fails: `query_only`), so a hot read path never waits for the writer; elsewhere, a plain
    transaction."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.rollback()
        session.close()


def is_postgresql(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"
