"""Two API instances' group-commit writers on one PostgreSQL store: ingesting overlapping
batches in opposite orders at once, every request is answered 200; and a group that loses a
deadlock against the other writer is tried again rather than answered 503."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config, make_token

from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert
from tocsin.alerts.service import NewAlert
from tocsin.clock import SystemClock, VirtualClock
from tocsin.db import is_postgresql, session_scope
from tocsin.web.app import create_app
from tocsin.web.deps import Settings
from tocsin.web.group_commit import GroupCommit

ALERTS = 40
ROUNDS = 60


@pytest.fixture
def apis(factory: sessionmaker[Session]) -> Iterator[list[TestClient]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                TestClient(create_app(Settings(api_config(), factory, SystemClock())))
            )
            for _ in range(2)
        ]


def body(order: list[int], round_: int) -> list[dict[str, object]]:
    return [
        {
            "labels": {"alertname": f"Overlap{i}", "severity": "warning", "job": "api"},
            "annotations": {"summary": f"round {round_}"},
            "startsAt": "2026-12-01T00:00:00Z",
        }
        for i in order
    ]


def test_two_writers_ingesting_overlapping_batches_never_deadlock_a_request(
    apis: list[TestClient], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        if not is_postgresql(s):
            pytest.skip("one writer per SQLite file: nothing to deadlock")
    auth = ("p", make_token(factory, clock, "prometheus", "ingest"))
    low, high = list(range(ALERTS // 2)), list(range(ALERTS // 2, ALERTS))
    # Each instance gets both halves at once from two senders (so one group transaction holds
    # both), the halves' rows in opposite orders on the two instances.
    plan = [(0, low), (0, high), (1, high[::-1]), (1, low[::-1])]
    answers: list[list[int]] = [[] for _ in plan]
    start = threading.Barrier(len(plan))

    def ingest(k: int) -> None:
        instance, half = plan[k]
        start.wait()
        for round_ in range(ROUNDS):
            sent = apis[instance].post("/api/v2/alerts", json=body(half, round_), auth=auth)
            answers[k].append(sent.status_code)

    threads = [threading.Thread(target=ingest, args=(k,)) for k in range(len(plan))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [sorted(set(a)) for a in answers] == [[200]] * len(plan)
    with session_scope(factory) as s:
        alerts = s.scalars(select(Alert)).all()
    assert len(alerts) == ALERTS
    assert {a.state for a in alerts} == {"firing"}


def new(i: int) -> NewAlert:
    return NewAlert(
        fingerprint=f"dl{i}", origin="test", labels={}, severity="HIGH", title=f"dl {i}", message=""
    )


def test_a_group_that_loses_a_deadlock_to_another_writer_is_tried_again(
    factory: sessionmaker[Session],
) -> None:
    """Two writers (two instances) whose groups lock two alerts in opposite orders, each
    holding its first lock when it asks for the second: PostgreSQL fails one with a deadlock;
    its group is tried again and both requests succeed."""
    with session_scope(factory) as s:
        if not is_postgresql(s):
            pytest.skip("one writer per SQLite file: nothing to deadlock")
    now = SystemClock().now()
    with session_scope(factory) as s:
        ids = [alerts.fire(s, new(i), now)[0].id for i in range(2)]
    both_hold_one = threading.Barrier(2, timeout=30)
    tries = [0, 0]

    def locking(k: int, first: int, second: int) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            tries[k] += 1
            lock = select(Alert.id).with_for_update()
            session.execute(lock.where(Alert.id == first))
            if tries[k] == 1:
                both_hold_one.wait()
            session.execute(lock.where(Alert.id == second))
            session.execute(update(Alert).where(Alert.id == first).values(title=f"by {k}"))
            return f"done {k}"

        return work

    writers = [GroupCommit(factory), GroupCommit(factory)]
    results: list[str | BaseException] = ["", ""]

    def request(k: int, first: int, second: int) -> None:
        try:
            results[k] = asyncio.run(writers[k].run(locking(k, first, second)))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            results[k] = exc

    threads = [
        threading.Thread(target=request, args=(0, ids[0], ids[1])),
        threading.Thread(target=request, args=(1, ids[1], ids[0])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["done 0", "done 1"]
    assert sorted(tries) == [1, 2]  # one of them lost the deadlock and was tried again
