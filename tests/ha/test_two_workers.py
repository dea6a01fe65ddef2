"""Every worker step run by two workers at once on one PostgreSQL store (separate engines,
so separate connections), collided at the worst moment (`tests/support/race.py`): no
notification, timeline event, escalation step, flush or notice happens twice or not at all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.configs import metric_config
from tests.support.noise import PAGING, Desk, noise_config, silence
from tests.support.race import Pair, collide, pair
from tests.support.shop import ValueTable
from tests.support.store import truncate

from tocsin import actions
from tocsin.alerts.models import AlertEvent
from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig
from tocsin.db import make_engine, session_scope
from tocsin.escalation.models import EscalationStep
from tocsin.heartbeats import service as heartbeats
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


def no_repeats(factory: sessionmaker[Session]) -> None:
    """Nothing was written twice: no (alert, event, channel, target, kind, step) in the
    outbox, no (alert, kind, note) on a timeline."""
    with session_scope(factory) as session:
        rows = session.scalars(select(Notification)).all()
        events = session.scalars(select(AlertEvent)).all()
    sent = Counter(
        (n.alert_id, n.event_id, n.channel, n.target, n.payload.get("event"), n.payload.get("step"))
        for n in rows
    )
    noted = Counter((e.alert_id, e.kind, e.note) for e in events)
    assert [k for k, n in sent.items() if n > 1] == []
    assert [k for k, n in noted.items() if n > 1] == []


def test_escalation_steps_fire_once(two: Pair, clock: VirtualClock) -> None:
    config = noise_config(PAGING)
    a, b = workers(two, config, clock)
    alert_id = Desk(two.b, clock, config).fire("api_down", {"service": "api"})  # step 0 fires
    clock.advance(timedelta(minutes=10))
    assert sum(race(two, a, b, "escalation steps", clock)) == 1
    no_repeats(two.b)
    with session_scope(two.b) as session:
        states = session.scalars(
            select(EscalationStep.state).where(EscalationStep.alert_id == alert_id)
        ).all()
    assert states == ["fired", "fired"]
    assert notified(two.b)[(alert_id, "pager", "fired")] == 2  # one per step


def test_an_ended_alert_resolves_once(two: Pair, clock: VirtualClock) -> None:
    config = noise_config()
    a, b = workers(two, config, clock)
    with session_scope(two.b) as session:
        alert, _ = actions.alerts.fire(
            session,
            a.pipeline,
            actions.alerts.NewAlert(
                fingerprint="f1",
                origin="alertmanager",
                labels={"alertname": "Down"},
                severity="HIGH",
                title="Down",
                message="",
                ends_at=clock.now() + timedelta(minutes=5),
            ),
            clock.now(),
        )
    clock.advance(HOUR)
    assert sorted(race(two, a, b, "alert ends", clock)) == [0, 1]
    assert timeline(two.b, alert.id) == ["fired", "resolved"]
    no_repeats(two.b)


def test_a_missed_heartbeat_raises_one_alert(two: Pair, clock: VirtualClock) -> None:
    config = noise_config("heartbeats:\n  - {name: queue, every: 30s, grace: 10s}\n")
    a, b = workers(two, config, clock)
    with session_scope(two.b) as session:
        heartbeats.sync(session, config.heartbeats, clock.now())
        (row,) = heartbeats.list_(session)
        beats = {beat.name: beat for beat in config.heartbeats}
        heartbeats.ping(session, beats, row.uuid, "success", clock.now(), a.pipeline)
    clock.advance(timedelta(minutes=2))
    assert sorted(race(two, a, b, "missed heartbeats", clock)) == [0, 1]
    with session_scope(two.b) as session:
        kinds = session.scalars(select(AlertEvent.kind)).all()
    assert kinds == ["fired"]
    no_repeats(two.b)


def test_a_silence_begun_mutes_once(two: Pair, clock: VirtualClock) -> None:
    config = noise_config()
    a, b = workers(two, config, clock)
    desk = Desk(two.b, clock, config)
    alert_id = desk.fire("api_down", {"service": "api"})
    silence(desk, "service=api")
    assert sorted(race(two, a, b, "rescreens", clock)) == [0, 1]
    assert timeline(two.b, alert_id) == ["fired", "suppressed"]
    no_repeats(two.b)


def test_a_group_flushes_once(two: Pair, clock: VirtualClock) -> None:
    grouping = "grouping: {by: [service], group_wait: 30s, group_interval: 5m, repeat_interval: 4h}"
    config = noise_config(grouping)
    a, b = workers(two, config, clock)
    desk = Desk(two.b, clock, config)
    for name in ("api_down", "api_slow"):
        desk.fire(name, {"service": "api"})
    clock.advance(timedelta(minutes=1))
    assert sorted(race(two, a, b, "group flushes", clock)) == [0, 1]
    flushes = [k for k in notified(two.b)]
    assert len(flushes) == 2  # one summary per channel
    no_repeats(two.b)


def test_a_silence_expiry_is_noted_once(two: Pair, clock: VirtualClock) -> None:
    config = noise_config()
    a, b = workers(two, config, clock)
    desk = Desk(two.b, clock, config)
    silence(desk, "service=api", lasts=timedelta(minutes=10))
    alert_id = desk.fire("api_down", {"service": "api"})
    assert sorted(race(two, a, b, "silence expiry notices", clock)) == [0, 1]
    assert timeline(two.b, alert_id) == ["fired", "suppressed", "silence_expiring"]
    no_repeats(two.b)


def test_the_digest_goes_once(two: Pair, clock: VirtualClock) -> None:
    config = noise_config("routes: {notify: [console], digest: true}")
    a, b = workers(two, config, clock)
    desk = Desk(two.b, clock, config)
    for name in ("cache", "disk"):
        desk.fire(name, {"service": name}, severity="INFO")
    clock.advance(timedelta(days=1))
    assert sorted(race(two, a, b, "digests", clock)) == [0, 1]
    assert notified(two.b)[(None, "console", "digest")] == 1
    no_repeats(two.b)


def test_each_notification_is_sent_once(two: Pair, clock: VirtualClock) -> None:
    config = noise_config()
    lines: dict[str, list[str]] = {"a": [], "b": []}
    a, b = (
        Worker(config, f, clock, worker_id=n, console_write=lines[n].append, threads=False)
        for n, f in (("a", two.a), ("b", two.b))
    )
    desk = Desk(two.b, clock, config)
    for i in range(5):
        desk.fire(f"down{i}", {"service": "api"})
    race(two, a, b, "notifications", clock)
    with session_scope(two.b) as session:
        states = Counter(session.scalars(select(Notification.state)).all())
    assert states == Counter({"sent": 10})  # 5 alerts, 2 channels
    assert len(lines["a"]) + len(lines["b"]) == 10


def test_a_check_slot_runs_once(two: Pair, clock: VirtualClock, tmp_path: Path) -> None:
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("error_rate", 12.0)
    config = metric_config(shop.url)
    a, b = workers(two, config, clock)
    race(two, a, b, "checks", clock)
    with session_scope(two.b) as session:
        evaluations = session.scalars(select(Evaluation.check_name)).all()
        kinds = session.scalars(select(AlertEvent.kind)).all()
    assert evaluations == ["error_rate"]
    assert kinds == ["fired"]
    no_repeats(two.b)
