"""Every worker step run by two workers at once on one PostgreSQL store (separate engines,
so separate connections), collided at the worst moment (`tests/support/race.py`): no
notification, timeline event, escalation step, flush or notice happens twice or not at all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config, silence
from tests.support.race import Pair, collide, pair
from tests.support.store import truncate

from tocsin.alerts.models import AlertEvent
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig
from tocsin.db import make_engine, session_scope
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

HOUR = timedelta(hours=1)


@pytest.fixture
def two(pg_database: str) -> Iterator[Pair]:
    engine = make_engine(pg_database)
    truncate(engine)
    engine.dispose()
    with pair(pg_database) as both:
        yield both


def workers(two: Pair, config: TocsinConfig, clock: VirtualClock) -> tuple[Worker, Worker]:
    out = []
    for name, factory in (("a", two.a), ("b", two.b)):
        worker = Worker(
            config, factory, clock, worker_id=name, console_write=lambda _l: None, threads=False
        )
        worker.start()
        out.append(worker)
    return out[0], out[1]


def race(two: Pair, a: Worker, b: Worker, step: str, clock: VirtualClock) -> tuple[int, int]:
    run_a = next(s.run for s in a.steps if s.name == step)
    run_b = next(s.run for s in b.steps if s.name == step)
    now = clock.now()
    done_a, done_b = collide(two, lambda: run_a(now), lambda: run_b(now), two.engines[1])
    return int(done_a), int(done_b)


def notified(factory: sessionmaker[Session]) -> Counter[tuple[int | None, str, str]]:
    """(alert, channel, event) of every outbox row, counted."""
    with session_scope(factory) as session:
        rows = session.scalars(select(Notification)).all()
        return Counter((n.alert_id, n.channel, str(n.payload.get("event"))) for n in rows)


def timeline(factory: sessionmaker[Session], alert_id: int) -> list[str]:
    with session_scope(factory) as session:
        return list(
            session.scalars(
                select(AlertEvent.kind)
                .where(AlertEvent.alert_id == alert_id)
                .order_by(AlertEvent.id)
            )
        )


def test_a_silence_ending_tells_each_channel_once(two: Pair, clock: VirtualClock) -> None:
    """The issue's duplicate: two mute rechecks of one released alert sent "fired" twice
    to every channel (timeline fired, suppressed, released, released)."""
    config = noise_config()
    a, b = workers(two, config, clock)
    desk = Desk(two.b, clock, config)
    silence(desk, "service=api")
    alert_id = desk.fire("api_down", {"service": "api"})
    assert notified(two.b) == Counter()
    clock.advance(HOUR + timedelta(seconds=1))
    done = race(two, a, b, "mute rechecks", clock)
    assert sorted(done) == [0, 1]
    assert notified(two.b) == Counter(
        {(alert_id, "console", "fired"): 1, (alert_id, "pager", "fired"): 1}
    )
    assert timeline(two.b, alert_id) == ["fired", "suppressed", "released"]
