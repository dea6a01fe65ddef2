"""The sender thread's deliveries: in flight side by side, in order within a lane, recorded
in batches. Real webhook channels to loopback servers; one of them hangs until released."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Answer, Loopback
from tests.support.noise import Desk
from tests.support.processes import count, wait_for

from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.notify.registry import build_channels
from tocsin.outbox.models import Notification
from tocsin.outbox.service import ordered_id
from tocsin.worker.sender import Courier, Sender, send_batch


@pytest.fixture
def slow() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


@pytest.fixture
def fast() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def received(server: Loopback) -> list[tuple[int, str]]:
    """(alert id, event) of each request, in arrival order."""
    bodies = [json.loads(r.body) for r in list(server.requests)]
    return [(b["alert_id"], b["event"]) for b in bodies]


def desk_and_box(
    factory: sessionmaker[Session], clock: VirtualClock, slow: Loopback, fast: Loopback
) -> tuple[Desk, Courier]:
    config, _ = parse(
        f"""
channels:
  slow: {{type: webhook, url: "{slow.url}/hook", timeout: 30s}}
  fast: {{type: webhook, url: "{fast.url}/hook", timeout: 30s}}
routes: {{notify: [slow, fast]}}
""",
        "t.yaml",
        env={},
    )
    desk = Desk(factory, clock, config)
    box = Courier(factory, clock, build_channels(config), desk.pipeline, config.worker.lease)
    return desk, box


def test_a_hanging_channel_delays_nobody_else_and_a_lane_keeps_its_order(
    factory: sessionmaker[Session], clock: VirtualClock, slow: Loopback, fast: Loopback
) -> None:
    desk, box = desk_and_box(factory, clock, slow, fast)
    one = desk.fire("disk", {"host": "a"})
    two = desk.fire("disk", {"host": "b"})
    desk.resolve(one)
    slow.answer = Answer(delay=120)  # hangs until the test releases it

    sender = Sender(box, concurrency=4)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            if not sender.pump():
                stop.wait(0.01)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        wait_for(lambda: len(fast.requests) == 3)
        # The fast channel heard everything while the slow one hangs on its first two.
        heard = received(fast)
        assert sorted(heard) == [(one, "fired"), (one, "resolved"), (two, "fired")]
        assert heard.index((one, "fired")) < heard.index((one, "resolved"))
        wait_for(lambda: len(slow.requests) == 2)
        # Alert one's resolution waits behind its own `fired`, not beside it.
        assert sorted(received(slow)) == [(one, "fired"), (two, "fired")]
        wait_for(lambda: count(factory, Notification, Notification.state == "sent") == 3)
        assert sender.in_flight == 2  # the two hanging; alert one's resolution waits
        with session_scope(factory) as session:
            waiting = session.scalars(
                select(Notification.payload).where(Notification.state == "pending")
            ).all()
            assert [(p["alert_id"], p["event"]) for p in waiting] == [(one, "resolved")]
        slow.released.set()
        wait_for(lambda: count(factory, Notification, Notification.state == "sent") == 6)
    finally:
        slow.released.set()
        stop.set()
        thread.join()
        sender.close()
    order = received(slow)
    assert order.index((one, "fired")) < order.index((one, "resolved"))
    assert len(order) == 3
    with session_scope(factory) as session:
        states = session.scalars(select(Notification.state)).all()
        assert sorted(states) == ["sent"] * 6
        attempts = session.scalars(select(Notification.attempts)).all()
        assert set(attempts) == {1}


def test_a_batch_is_claimed_and_recorded_in_one_transaction_each(
    factory: sessionmaker[Session], clock: VirtualClock, slow: Loopback, fast: Loopback
) -> None:
    desk, box = desk_and_box(factory, clock, slow, fast)
    for n in range(30):
        desk.fire("disk", {"host": str(n)})
    commits = []

    from sqlalchemy import event

    def note(session: Session) -> None:
        commits.append(1)

    event.listen(Session, "after_commit", note)
    try:
        assert send_batch(box) == 60
    finally:
        event.remove(Session, "after_commit", note)
    assert len(commits) == 2  # the claim and the record
    assert count(factory, Notification, Notification.state == "sent") == 60
    assert len(slow.requests) == len(fast.requests) == 30


def test_failures_in_a_batch_are_retried_and_successes_recorded(
    factory: sessionmaker[Session], clock: VirtualClock, slow: Loopback, fast: Loopback
) -> None:
    desk, box = desk_and_box(factory, clock, slow, fast)
    desk.fire("disk", {"host": "a"})
    slow.answer = Answer(status=503, body=b"down")
    assert send_batch(box) == 2
    with session_scope(factory) as session:
        rows = {n.channel: n for n in session.scalars(select(Notification))}
    assert rows["fast"].state == "sent"
    assert rows["slow"].state == "pending"
    assert rows["slow"].last_error is not None
    assert "503" in rows["slow"].last_error
    assert rows["slow"].next_attempt_at > clock.now()


def test_a_resolution_never_overtakes_a_page_being_retried(
    factory: sessionmaker[Session], clock: VirtualClock, slow: Loopback, fast: Loopback
) -> None:
    """PagerDuty ignores a `resolve` for an incident it has not seen, then opens the incident
    when the retried `trigger` lands: a lane must go in event order even across retries."""
    desk, box = desk_and_box(factory, clock, slow, fast)
    one = desk.fire("disk", {"host": "a"})
    slow.answer = Answer(status=503, body=b"down")
    assert send_batch(box) == 2  # fired: fast took it, slow is to be retried
    desk.resolve(one)
    slow.answer = Answer()
    assert send_batch(box) == 1  # only fast's resolution; slow's waits behind its retry
    assert received(slow) == [(one, "fired")]  # the failed attempt
    clock.advance(timedelta(minutes=1))
    assert send_batch(box) == 1  # the retried `fired`
    assert send_batch(box) == 1  # then its resolution
    assert received(slow) == [(one, "fired"), (one, "fired"), (one, "resolved")]
    assert received(fast) == [(one, "fired"), (one, "resolved")]


def test_outbox_ids_are_uuid7_in_the_order_they_were_made() -> None:
    ids = [ordered_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = [uuid.UUID(i) for i in ids]
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
