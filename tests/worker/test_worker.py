"""The worker on the virtual clock: checks become evaluations, alerts and notifications."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.configs import metric_config
from tests.support.shop import ValueTable

from tocsin import actions
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.checks import service as checks
from tocsin.checks.models import CheckSchedule, Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import BaselineConfig, ConditionConfig
from tocsin.db import session_scope
from tocsin.errors import Conflict
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

MINUTE = timedelta(minutes=1)


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    table.set("error_rate", 1.0)
    return table


def make_worker(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    shop: ValueTable,
    lines: list[str],
    **kw: str,
) -> Worker:
    worker = Worker(
        metric_config(shop.url, **kw),
        factory,
        clock,
        worker_id="w1",
        console_write=lines.append,
        threads=False,
    )
    worker.start()
    return worker


def step(worker: Worker, clock: VirtualClock, minutes: int = 1) -> None:
    worker.tick()
    clock.advance(MINUTE * minutes)


def test_a_check_fires_changes_severity_and_resolves(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    lines: list[str] = []
    worker = make_worker(factory, clock, shop, lines)
    step(worker, clock)
    shop.set("error_rate", 6)
    step(worker, clock)
    shop.set("error_rate", 12)
    step(worker, clock)
    shop.set("error_rate", 2)
    step(worker, clock)
    worker.stop()
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s)
        kinds = [(e.kind, e.severity) for e in alerts.timeline(s, alert.id)]
        evaluations = s.scalar(select(func.count()).select_from(Evaluation))
    assert kinds == [("fired", "WARNING"), ("severity_changed", "HIGH"), ("resolved", "HIGH")]
    assert alert.state == "resolved"
    assert alert.labels == {"service": "checkout"}
    assert evaluations == 4
    assert len(lines) == 3
    assert "WARNING FIRED: Error rate — error rate 6.0%" in lines[0]
    assert "RESOLVED" in lines[2]


def test_acknowledged_alerts_stay_acknowledged_until_resolved(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    lines: list[str] = []
    worker = make_worker(factory, clock, shop, lines)
    shop.set("error_rate", 11)
    step(worker, clock)
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s)
        actions.alerts.acknowledge(s, worker.pipeline, alert.id, "ana", clock.now(), "looking")
    step(worker, clock)
    with session_scope(factory) as s:
        assert alerts.get(s, alert.id).state == "acknowledged"
        with pytest.raises(Conflict, match="acknowledged"):
            alerts.acknowledge(s, alert.id, "bob", clock.now())
    shop.set("error_rate", 0)
    step(worker, clock)
    with session_scope(factory) as s:
        resolved = alerts.get(s, alert.id)
        events = [(e.kind, e.actor) for e in alerts.timeline(s, alert.id)]
    assert resolved.state == "resolved"
    assert resolved.acknowledged_by == "ana"
    assert events == [("fired", None), ("acknowledged", "ana"), ("resolved", None)]
    assert [line.split(": ")[0].split("] ")[1] for line in lines] == [
        "HIGH FIRED",
        "HIGH ACKNOWLEDGED",
        "HIGH RESOLVED",
    ]


def test_an_alert_that_fires_again_is_a_new_alert_linked_to_the_old(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    worker = make_worker(factory, clock, shop, [])
    for value in (12, 0, 12):
        shop.set("error_rate", value)
        step(worker, clock)
    with session_scope(factory) as s:
        second, first = alerts.list_(s)
        note = alerts.timeline(s, second.id)[0].note
    assert (first.state, second.state) == ("resolved", "firing")
    assert first.fingerprint == second.fingerprint
    assert second.previous_id == first.id
    assert note == f"fires again (previous alert {first.id})"


def test_a_manual_resolve_while_the_condition_holds_opens_a_new_alert(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    worker = make_worker(factory, clock, shop, [])
    shop.set("error_rate", 12)
    step(worker, clock)
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s)
        actions.alerts.resolve(s, worker.pipeline, alert.id, "ana", clock.now())
    step(worker, clock)
    with session_scope(factory) as s:
        newest = alerts.list_(s)[0]
    assert newest.id != alert.id
    assert newest.state == "firing"


@pytest.mark.parametrize(("query_value", "kind"), [("abc", "not_a_number"), (None, "no_data")])
def test_bad_results_raise_a_check_error_alert_and_never_resolve(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    shop: ValueTable,
    query_value: object,
    kind: str,
) -> None:
    worker = make_worker(factory, clock, shop, [])
    shop.set("error_rate", 12)
    step(worker, clock)
    shop.set("error_rate", query_value)
    step(worker, clock)
    with session_scope(factory) as s:
        open_alerts = alerts.list_(s, state="open")
        evaluation = s.scalars(select(Evaluation).order_by(Evaluation.id.desc())).first()
        schedule = s.get(CheckSchedule, "error_rate")
    assert evaluation is not None
    assert (evaluation.status, evaluation.error_kind) == ("error", kind)
    origins = sorted((a.origin, a.severity) for a in open_alerts)
    assert origins == [("check", "HIGH"), ("check_error", "WARNING")]
    assert schedule is not None
    assert schedule.consecutive_errors == 1
    # The next good evaluation resolves the check-error alert.
    shop.set("error_rate", 12)
    step(worker, clock)
    with session_scope(factory) as s:
        assert [a.origin for a in alerts.list_(s, state="open")] == ["check"]


def test_an_unreachable_source_is_a_check_error_and_the_worker_carries_on(
    factory: sessionmaker[Session], clock: VirtualClock, tmp_path: Path
) -> None:
    missing = ValueTable.__new__(ValueTable)
    missing.path = tmp_path / "nowhere" / "shop.db"
    worker = make_worker(factory, clock, missing, [])
    step(worker, clock)
    step(worker, clock)
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s, state="open")
        statuses = s.scalars(select(Evaluation.error_kind)).all()
    assert alert.origin == "check_error"
    assert "cannot run (unreachable)" in alert.title
    assert statuses == ["unreachable", "unreachable"]


def test_a_check_whose_sql_writes_fails_clearly(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = metric_config(shop.url)
    bad = config.checks[0].model_copy(update={"query": "DELETE FROM metric RETURNING 1 AS value"})
    worker = Worker(
        config.model_copy(update={"checks": [bad]}),
        factory,
        clock,
        console_write=[].append,
        threads=False,
    )
    worker.start()
    step(worker, clock)
    with session_scope(factory) as s:
        evaluation = s.scalars(select(Evaluation)).one()
    assert evaluation.error_kind == "query"
    assert "read-only" in (evaluation.error or "")
    shop.set("probe", 1)  # the table is still there and writable by its owner


def test_each_slot_is_evaluated_once_even_with_two_workers(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    one = make_worker(factory, clock, shop, [])
    two = Worker(one.config, factory, clock, worker_id="w2", console_write=[].append, threads=False)
    two.start()
    for _ in range(5):
        one.tick()
        two.tick()
        clock.advance(MINUTE)
    with session_scope(factory) as s:
        slots = s.scalars(select(Evaluation.slot_at)).all()
        workers = set(s.scalars(select(Evaluation.worker_id)).all())
    assert len(slots) == len(set(slots)) == 5
    assert workers <= {"w1", "w2"}


def test_for_duration_waits_in_the_store(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = metric_config(shop.url)
    held = config.checks[0].model_copy(update={"for_": timedelta(minutes=3)})
    config = config.model_copy(update={"checks": [held]})
    shop.set("error_rate", 12)
    fired_at = []
    for minute in range(6):
        # A fresh worker each minute: the pending state must live in the store.
        worker = Worker(
            config, factory, clock, worker_id=f"w{minute}", console_write=[].append, threads=False
        )
        worker.start()
        worker.tick()
        worker.stop()
        with session_scope(factory) as s:
            if alerts.list_(s):
                fired_at.append(minute)
        clock.advance(MINUTE)
    assert fired_at[0] == 3


def test_notifications_are_written_with_the_transition(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    lines: list[str] = []
    worker = make_worker(factory, clock, shop, lines)
    shop.set("error_rate", 12)
    worker.run_due_checks()  # evaluate, but do not send yet
    with session_scope(factory) as s:
        pending = s.scalars(select(Notification)).all()
        (alert,) = s.scalars(select(Alert)).all()
        (event,) = s.scalars(select(AlertEvent)).all()
    assert [(n.state, n.alert_id, n.event_id) for n in pending] == [("pending", alert.id, event.id)]
    assert lines == []
    worker.send_due_notifications()
    with session_scope(factory) as s:
        assert s.scalars(select(Notification.state)).all() == ["sent"]
    assert len(lines) == 1


def test_a_history_baseline_compares_with_the_checks_own_past(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = metric_config(shop.url)
    base = config.checks[0].model_copy(
        update={
            "baseline": BaselineConfig.model_validate(
                {"history": {"window": "1h", "aggregate": "median", "min_samples": 3}}
            ),
            "conditions": [ConditionConfig(when="> 2", severity="WARNING")],
        }
    )
    worker = Worker(
        config.model_copy(update={"checks": [base]}),
        factory,
        clock,
        console_write=[].append,
        threads=False,
    )
    worker.start()
    severities = []
    for value in (10, 11, 9, 25, 10):
        shop.set("error_rate", value)
        step(worker, clock)
        with session_scope(factory) as s:
            found = alerts.list_(s, state="open")
            severities.append(found[0].severity if found else None)
    # The first three build the history (median 10); 25 is 2.5x it; 10 is back to normal.
    assert severities == [None, None, None, "WARNING", None]
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s)
        fired = alerts.timeline(s, alert.id)[0]
    assert fired.data["value"] == 2.5
    assert alert.value == round(10 / 10.5, 4)  # the value that cleared it


def test_a_worker_whose_lease_expired_loses_the_slot_quietly(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    slow = make_worker(factory, clock, shop, [])
    with session_scope(factory) as s:
        (claim,) = checks.claim_due(s, "slow", clock.now(), timedelta(seconds=30))
    # The slow worker's lease runs out; another takes the slot and finishes it.
    clock.advance(timedelta(minutes=1))
    other = Worker(
        slow.config, factory, clock, worker_id="fast", console_write=[].append, threads=False
    )
    other.start()
    other.run_due_checks()
    slow.run_claim(claim)  # finishes late: must roll back, not raise or double-count
    with session_scope(factory) as s:
        rows = s.scalars(select(Evaluation.worker_id)).all()
    assert rows == ["fast"]
