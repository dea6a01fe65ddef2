"""Inhibition that begins after its targets fire, on both stores: a source alert that fires
(or rises to the severity its rule wants, or whose rule is added) while targets already fire
mutes them at the worker's next noise step, as a silence begun then does: their escalations
pause, their timelines name the source, Alertmanager's API shows them inhibited; when the
source resolves (or drops below the rule), those still firing are told again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import PAGING, Desk, escalation_states, noise_config, run_noise, silence

from tocsin import actions, noise
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.fingerprint import fingerprint
from tocsin.noise import rescreen, silences
from tocsin.noise.models import InhibitSource, MutedAlert
from tocsin.web.routes.silences import alertmanager_alerts

MINUTE = timedelta(minutes=1)

INHIBIT = """
inhibit_rules:
  - source_matchers: ['check="db_unreachable"', 'severity="CRITICAL"']
    target_matchers: ['check!="db_unreachable"']
    equal: [service]
"""


def desk(factory: sessionmaker[Session], clock: VirtualClock, extra: str = PAGING) -> Desk:
    return Desk(factory, clock, noise_config(extra + INHIBIT))


def muted_by(d: Desk, alert_id: int) -> tuple[str, str] | None:
    with session_scope(d.factory) as s:
        row = s.get(MutedAlert, alert_id)
        return None if row is None else (row.kind, row.ref)


def fired(d: Desk, alert_id: int) -> list[str]:
    return [c for _, c, e in d.sent(alert_id) if e == "fired"]


def due_sources(d: Desk) -> list[int]:
    with session_scope(d.factory) as s:
        query = select(InhibitSource.alert_id).where(InhibitSource.rescreen_at.is_not(None))
        return list(s.scalars(query))


def change_severity(d: Desk, alert_id: int, severity: str) -> None:
    with session_scope(d.factory) as s:
        actions.alerts.change_severity(s, d.pipeline, alert_id, severity, d.clock.now())


def am_status(d: Desk) -> dict[int, list[str]]:
    """Alert id → `inhibitedBy` as `GET /api/v2/alerts` shows it."""
    with session_scope(d.factory) as s:
        by_fingerprint = {a.fingerprint: a.id for a in s.scalars(select(Alert))}
        return {
            by_fingerprint[a["fingerprint"]]: a["status"]["inhibitedBy"]
            for a in alertmanager_alerts(s, d.clock.now())
        }


def test_a_source_firing_after_its_targets_mutes_them_until_it_resolves(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk(factory, clock)
    orders = d.fire("orders", {"service": "shop"})
    blog = d.fire("orders", {"service": "blog"})
    assert fired(d, orders) == ["console", "pager"]
    db = d.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    assert muted_by(d, orders) is None  # not yet: the worker's next pass
    d.step()
    assert muted_by(d, orders) == ("inhibition", str(db))
    assert muted_by(d, blog) is None
    (event,) = d.events(orders, ["suppressed"])
    assert event.data == {"by": "inhibition", "id": str(db), "event": "fired"}
    assert event.note == f"inhibited by alert {db} (inhibit_rules[0])"
    assert [k for k, _ in d.timeline(orders)][-2:] == ["suppressed", "escalation_paused"]
    assert escalation_states(d, orders) == [("paused", ["fired", "cancelled"])]
    with session_scope(factory) as s:
        db_fingerprint = alerts.get(s, db).fingerprint
    assert am_status(d) == {orders: [db_fingerprint], blog: [], db: []}
    assert due_sources(d) == []
    assert d.step(20 * MINUTE) == 0  # idle: nothing due, nothing sent for it
    assert fired(d, orders) == ["console", "pager"]
    d.resolve(db)
    assert am_status(d)[orders] == []  # at once, as Alertmanager decides when asked
    d.step()
    assert fired(d, orders) == ["console", "pager"] * 2  # still firing: told again
    assert escalation_states(d, orders) == [("active", ["fired", "pending"])]
    assert "released" in [k for k, _ in d.timeline(orders)]
    assert muted_by(d, orders) is None


def test_a_source_after_its_target_in_one_batch_mutes_it_at_the_next_pass(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    """Alertmanager sends a batch in no order: the target screened before its source."""
    d = desk(factory, clock)
    now = clock.now()
    specs = [("orders", "HIGH"), ("db_unreachable", "CRITICAL")]
    with session_scope(factory) as s:
        new = [
            actions.alerts.NewAlert(
                fingerprint=fingerprint(check, {"service": "shop"}),
                origin="check",
                check_name=check,
                labels={"service": "shop"},
                severity=severity,
                title=check,
                message="",
            )
            for check, severity in specs
        ]
        batch = actions.alerts.fire_many(s, d.pipeline, new, now)
        orders, db = (alert.id for alert, _ in batch)
    assert fired(d, orders) == ["console", "pager"]
    d.step()
    assert muted_by(d, orders) == ("inhibition", str(db))
    assert escalation_states(d, orders) == [("paused", ["fired", "cancelled"])]


def test_a_severity_that_rises_to_the_rule_mutes_and_one_that_drops_releases(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk(factory, clock)
    db = d.fire("db_unreachable", {"service": "shop"})  # HIGH: no source yet
    orders = d.fire("orders", {"service": "shop"})
    assert d.step() == 0
    change_severity(d, db, "CRITICAL")
    d.step()
    assert muted_by(d, orders) == ("inhibition", str(db))
    change_severity(d, db, "HIGH")
    d.step(MINUTE)
    assert muted_by(d, orders) is None
    assert fired(d, orders) == ["console", "pager"] * 2


def test_a_rule_added_later_mutes_the_targets_of_sources_already_firing(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    before = Desk(factory, clock, noise_config(PAGING))
    db = before.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    orders = before.fire("orders", {"service": "shop"})
    d = desk(factory, clock)
    with session_scope(factory) as s:  # the worker starts (or reloads) with the rule
        noise.seed(s, d.config, clock.now())
    d.step()
    assert muted_by(d, orders) == ("inhibition", str(db))
    for _ in range(2):  # seeding again (a restart) finds nothing new to do
        with session_scope(factory) as s:
            noise.seed(s, d.config, clock.now())
        assert d.step() == 0


def test_acknowledged_and_silenced_targets_are_left_and_a_silence_ending_hands_over(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk(factory, clock)
    acked = d.fire("orders", {"service": "shop"})
    d.ack(acked)
    payments = d.fire("payments", {"service": "shop"})
    sid = silence(d, 'check="payments"')
    d.step()
    assert muted_by(d, payments) == ("silence", sid)
    db = d.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    d.step()
    assert muted_by(d, acked) is None
    assert muted_by(d, payments) == ("silence", sid)
    with session_scope(factory) as s:
        silences.expire_silence(s, sid, clock.now())
    d.step()  # the silence is over but the database still inhibits it: nobody is told
    assert muted_by(d, payments) == ("inhibition", str(db))
    assert fired(d, payments) == ["console", "pager"]
    assert [e.data["by"] for e in d.events(payments, ["suppressed"])] == [
        "silence",
        "inhibition",
    ]


def test_a_target_acknowledged_while_inhibited_is_not_told_again_when_the_source_resolves(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk(factory, clock)
    orders = d.fire("orders", {"service": "shop"})
    db = d.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    d.step(MINUTE)
    d.ack(orders)
    d.resolve(db)
    d.step()
    assert [e for _, _, e in d.sent(orders)] == ["fired"] * 2 + ["acknowledged"] * 2
    assert escalation_states(d, orders) == [("stopped", ["fired", "cancelled"])]
    assert muted_by(d, orders) is None


def test_a_source_with_many_targets_mutes_them_over_several_passes(
    factory: sessionmaker[Session], clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rescreen, "BATCH", 2)
    d = desk(factory, clock, "")
    targets = [d.fire("orders", {"service": "shop", "i": str(i)}) for i in range(5)]
    db = d.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    assert [d.step() for _ in range(4)] == [2, 2, 1 + 1, 0]  # the last: 1 muted, 1 cleared
    assert {muted_by(d, t) for t in targets} == {("inhibition", str(db))}


class Killed(Exception):
    """The worker dies in the middle of its noise step."""


def test_a_worker_killed_mid_pass_leaves_the_source_due_and_a_restart_mutes_each_once(
    factory: sessionmaker[Session], clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = desk(factory, clock)
    targets = [d.fire("orders", {"service": "shop", "i": str(i)}) for i in range(3)]
    db = d.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    paused: list[int] = []
    pause = d.pipeline.escalator.pause

    def pause_then_die(s: Session, alert: Alert, now: datetime, reason: str) -> None:
        pause(s, alert, now, reason)
        paused.append(alert.id)
        if len(paused) == 2:
            raise Killed

    monkeypatch.setattr(d.pipeline.escalator, "pause", pause_then_die)
    with pytest.raises(Killed), session_scope(factory) as s:
        run_noise(s, d.pipeline, clock.now())
    assert paused == targets[:2]
    assert due_sources(d) == [db]  # the transaction died with it: nothing half done
    assert {muted_by(d, t) for t in targets} == {None}
    restarted = desk(factory, clock)  # a new process: everything it needs is in the store
    restarted.step(MINUTE)
    assert restarted.step() == 0
    for target in targets:
        assert muted_by(d, target) == ("inhibition", str(db))
        assert kinds(d.events(target, ["suppressed", "escalation_paused"])) == [
            "suppressed",
            "escalation_paused",
        ]


def kinds(events: Sequence[AlertEvent]) -> list[str]:
    return [e.kind for e in events]
