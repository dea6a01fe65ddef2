"""The group-commit writer: requests share transactions, each hears its own outcome only
after the commit, and a failing one keeps none of its writes while the others keep theirs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import NotFound
from tocsin.heartbeats.models import Heartbeat
from tocsin.web.group_commit import GroupCommit


def add(name: str, fail: bool = False) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.add(Heartbeat(name=name, uuid=name, status="new", created_at=NOW[0]))
        session.flush()
        if fail:
            raise NotFound(f"{name} was refused after writing")
        return name

    return work


NOW: list[object] = []


def names(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Heartbeat.name).order_by(Heartbeat.name)))


@pytest.fixture(autouse=True)
def _now(clock: VirtualClock) -> None:
    NOW[:] = [clock.now()]


async def queued(writer: GroupCommit, works: list[Callable[[Session], str]]) -> list[object]:
    """Run `works` in one group: the writer is held on a job of its own (that job may or may
    not share their group) until they all queued."""
    gate = threading.Event()
    held = asyncio.ensure_future(writer.run(lambda _session: gate.wait(5)))
    jobs = [asyncio.ensure_future(writer.run(work)) for work in works]
    await asyncio.sleep(0)  # each job's first step puts it on the writer's queue
    gate.set()
    outcomes = await asyncio.gather(held, *jobs, return_exceptions=True)
    return list(outcomes[1:])


def test_concurrent_requests_share_a_commit_and_a_failure_keeps_nothing_of_its_own(
    factory: sessionmaker[Session],
) -> None:
    writer = GroupCommit(factory)
    outcomes = asyncio.run(queued(writer, [add(f"a{i}", fail=i == 3) for i in range(6)]))
    assert outcomes[:3] == ["a0", "a1", "a2"]
    assert isinstance(outcomes[3], NotFound)
    assert outcomes[4:] == ["a4", "a5"]
    assert names(factory) == ["a0", "a1", "a2", "a4", "a5"]


def test_a_lone_failing_request_writes_nothing_and_the_next_one_works(
    factory: sessionmaker[Session],
) -> None:
    writer = GroupCommit(factory)

    async def scenario() -> str:
        with pytest.raises(NotFound, match="refused after writing"):
            await writer.run(add("b0", fail=True))
        return await writer.run(add("b1"))

    assert asyncio.run(scenario()) == "b1"
    assert names(factory) == ["b1"]


def test_a_commit_that_fails_fails_every_request_of_its_group(
    factory: sessionmaker[Session],
) -> None:
    writer = GroupCommit(factory)

    # Two rows with one unique name: nothing fails until the flush inside the commit.
    def lazy(name: str) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            session.add(Heartbeat(name="same", uuid=name, status="new", created_at=NOW[0]))
            return name

        return work

    outcomes = asyncio.run(queued(writer, [lazy("c0"), lazy("c1")]))
    assert all(isinstance(o, IntegrityError) for o in outcomes)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Heartbeat)) == 0
