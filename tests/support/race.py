"""Two workers on one PostgreSQL store, made to collide: worker A runs a step up to its first
commit and holds its transaction open there; worker B runs the same step meanwhile (until it
finishes or waits on a lock A holds); then A commits and both finish. Every step that claims
its rows properly leaves B nothing of A's to do; one that does not does the work twice.

The interleaving is forced, not hoped for: no sleeps decide the outcome (B is observed
waiting in `pg_stat_activity`, or finished)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from tocsin.db import make_engine, make_sessionmaker


@dataclass
class Gate:
    """Holds the first commit of every session of one sessionmaker until `go` is set."""

    reached: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)
    armed: bool = False

    def attach(self, factory: sessionmaker[Session]) -> None:
        def before_commit(session: Session) -> None:
            if not self.armed:
                return
            self.armed = False
            session.flush()  # take the row locks the commit would publish
            self.reached.set()
            if not self.go.wait(120):
                raise RuntimeError("the race was never released")

        event.listen(factory, "before_commit", before_commit)


@dataclass
class Pair:
    """Two factories on separate engines (separate connections) to one store; A's gated."""

    a: sessionmaker[Session]
    b: sessionmaker[Session]
    gate: Gate
    engines: list[Engine]


@contextmanager
def pair(url: str) -> Iterator[Pair]:
    engines = [make_engine(url), make_engine(url)]
    a, b = make_sessionmaker(engines[0]), make_sessionmaker(engines[1])
    gate = Gate()
    gate.attach(a)
    try:
        yield Pair(a, b, gate, engines)
    finally:
        for engine in engines:
            engine.dispose()


def _waiting_on_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(found)


def collide(
    pair: Pair, run_a: Callable[[], Any], run_b: Callable[[], Any], probe: Engine
) -> tuple[Any, Any]:
    """Run A to its first commit and hold it there; run B meanwhile until it finishes or
    waits on one of A's locks; release A. Returns both results (an exception in either
    is raised here)."""
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def runner(name: str, run: Callable[[], Any]) -> Callable[[], None]:
        def go() -> None:
            try:
                results[name] = run()
            except BaseException as exc:  # noqa: BLE001 (raised again by collide)
                errors.append(exc)
                pair.gate.go.set()

        return go

    pair.gate.reached.clear()
    pair.gate.go.clear()
    pair.gate.armed = True
    thread_a = threading.Thread(target=runner("a", run_a), name="worker-a")
    thread_a.start()
    while not pair.gate.reached.is_set() and thread_a.is_alive():
        pair.gate.reached.wait(0.01)
    thread_b = threading.Thread(target=runner("b", run_b), name="worker-b")
    thread_b.start()
    # B is done, or stuck behind A: either way A may now commit.
    while thread_b.is_alive() and not _waiting_on_lock(probe):
        time.sleep(0.01)
    pair.gate.armed = False
    pair.gate.go.set()
    thread_a.join()
    thread_b.join()
    if errors:
        raise errors[0]
    return results.get("a"), results.get("b")
