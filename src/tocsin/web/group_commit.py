"""Group commit: the hot write paths (pings, inbound alerts) hand their work to one writer
thread, which applies every request waiting at that moment in one shared transaction and
answers each of them only after that transaction committed.

Why: a commit is the expensive part of a small write (an fsync on PostgreSQL; on SQLite the
write lock and the WAL append), and one writer queueing requests costs no thread hop per
request and never fights over the store's write lock. Nothing is held back on purpose: the
writer takes what queued up while it was committing the previous group, so an idle server
answers a lone request at once and a busy one commits many per transaction.

Several instances: each has its own writer, and two writers' transactions may lock the same
alerts in different orders (one group holds requests A then B, another's B then A), which
PostgreSQL breaks by failing one of them with a deadlock (or, under stricter isolation, a
serialization failure). Such a failure is not the request's fault: the whole group is tried
again (up to `RETRIES` times, after a short random pause so the two do not meet again), and
only then do its requests hear of it.

Durability is unchanged: a request's future is resolved after `COMMIT` returned, so every
answered write is in the store. A job that raises gets its exception and keeps none of its
writes (the group is redone without it, see `_apply`); a failed commit fails every job of
the group (nothing was kept). "Committed" is the store's own promise: on PostgreSQL the
commit's fsync (one per group, not per request); on SQLite in WAL mode with
`synchronous=NORMAL` (`tocsin.db`) it survives a crash of the process, and only a power loss
can take the last commits back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tocsin.db import session_scope

log = logging.getLogger("tocsin.web.group_commit")
T = TypeVar("T")
MAX_GROUP = 256  # jobs per transaction: bounds the latency one group adds to the next
IDLE_EXIT = 5.0  # seconds without work before the writer thread ends
RETRIES = 5  # a group that lost a deadlock is tried again this many times
TRANSIENT = {"40P01", "40001"}  # PostgreSQL's deadlock_detected, serialization_failure


def transient(exc: BaseException) -> bool:
    """A failure that trying again may cure: a deadlock or serialization failure."""
    found: BaseException | None = exc
    while found is not None:
        if getattr(found, "sqlstate", None) in TRANSIENT:
            return True
        found = getattr(found, "orig", None) or found.__cause__
    return False


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    outcome: tuple[bool, Any] = field(default=(False, None))


def _settle(jobs: list[_Job[Any]]) -> None:
    """On the requester's loop: hand each job its result or its exception."""
    for job in jobs:
        if job.future.done():  # the request was cancelled (client went away)
            continue
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


class GroupCommit:
    """`await writer.run(work)` runs `work(session)` in a transaction shared with the other
    requests queued at the same moment, and returns its result once that transaction
    committed."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._queue: queue.SimpleQueue[_Job[Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def run(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(work, loop, future)
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="writer", daemon=True)
                self._thread.start()
            self._queue.put(job)
        return await job.future

    def _serve(self) -> None:
        """Apply groups until idle for IDLE_EXIT seconds (a later `run` starts a new thread,
        so an app that is never shut down leaves no thread behind)."""
        while True:
            try:
                first = self._queue.get(timeout=IDLE_EXIT)
            except queue.Empty:
                with self._start:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._apply(group)

    def _apply(self, group: list[_Job[Any]]) -> None:
        """Run the group without savepoints (they would double a ping's cost); at the first
        job that fails, roll back, answer it, and redo the rest with a savepoint each."""
        todo, savepoint, retries = group, False, 0
        while todo:
            try:
                with session_scope(self._factory) as session:
                    for job in todo:
                        job.outcome = _attempt(session, job.work, savepoint=savepoint)
                        if not job.outcome[0] and (not savepoint or transient(job.outcome[1])):
                            raise _Redo(job)
            except _Redo as redo:
                if transient(redo.job.outcome[1]) and retries < RETRIES:
                    retries += 1
                    _pause(retries)
                    continue  # the whole group again: the deadlock undid all of it
                todo, savepoint = [job for job in todo if job is not redo.job], True
                continue
            except Exception as exc:  # noqa: BLE001 - the commit failed: every job hears why
                if transient(exc) and retries < RETRIES:
                    retries += 1
                    _pause(retries)
                    continue
                log.warning("a group of %d writes failed to commit: %s", len(todo), exc)
                for job in todo:
                    job.outcome = (False, exc)
            break
        if retries:
            log.info("a group of %d writes was tried %d more times (deadlock)", len(todo), retries)
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
        for job in group:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(_settle, jobs)


def _pause(retries: int) -> None:
    time.sleep(random.uniform(0, 0.02 * retries))


class _Redo(Exception):
    """Roll back the group's transaction: `job` failed and must not keep its writes."""

    def __init__(self, job: _Job[Any]) -> None:
        super().__init__()
        self.job = job


def _attempt(
    session: Session, work: Callable[[Session], Any], *, savepoint: bool
) -> tuple[bool, Any]:
    """(True, result) or (False, exception) for one job inside the group's transaction;
    with `savepoint`, its failure undoes only its own writes."""
    try:
        if not savepoint:
            return (True, work(session))
        with session.begin_nested():
            return (True, work(session))
    except Exception as exc:  # noqa: BLE001 - a job boundary: the requester gets it
        return (False, exc)
