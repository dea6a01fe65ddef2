"""Noise that begins while alerts already fire, on both stores: a silence, window or known
issue created (or starting) after an alert fired mutes it at the worker's next noise step,
pauses its escalation, and its end tells those routed again if the alert still fires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import HOUR, PAGING, Desk, escalation_states, noise_config, silence

from tocsin import actions, noise
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.noise import known_issues, maintenance, silences
from tocsin.noise.models import MutedAlert, Silence

MINUTE = timedelta(minutes=1)


def fire_due_steps(d: Desk) -> int:
    with session_scope(d.factory) as s:
        return d.pipeline.escalator.fire_due(s, d.clock.now())


def test_a_silence_created_while_an_alert_fires_mutes_it_and_stops_paging_until_it_ends(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config(PAGING))
    alert = d.fire("orders", {"service": "shop"})
    assert [(c, e) for _, c, e in d.sent(alert)] == [("console", "fired"), ("pager", "fired")]
    sid = silence(d, 'service="shop"')
    assert d.step() == 1
    (event,) = d.events(alert, ["suppressed"])
    assert event.data == {"by": "silence", "id": sid, "event": "fired"}
    assert escalation_states(d, alert) == [("paused", ["fired", "cancelled"])]
    assert [k for k, _ in d.timeline(alert)][-2:] == ["suppressed", "escalation_paused"]
    d.clock.advance(20 * MINUTE)  # step 2 would have paged by now
    assert fire_due_steps(d) == 0
    assert d.step() == 0
    assert len(d.sent(alert)) == 2
    with session_scope(d.factory) as s:
        silences.expire_silence(s, sid, d.clock.now())
    assert d.step() == 1  # still firing: told again, and paged from the first step again
    assert [(c, e) for _, c, e in d.sent(alert)][2:] == [("console", "fired"), ("pager", "fired")]
    assert escalation_states(d, alert) == [("active", ["fired", "pending"])]
    assert "released" in [k for k, _ in d.timeline(alert)]
    d.clock.advance(10 * MINUTE)
    assert fire_due_steps(d) == 1


def test_the_silenced_alert_is_not_told_of_later_changes_but_those_told_hear_it_resolve(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config())
    alert = d.fire("orders", {"service": "shop"})
    silence(d, 'service="shop"')
    d.step()
    with session_scope(factory) as s:
        actions.alerts.change_severity(
            s, d.pipeline, alert, "CRITICAL", d.clock.now(), message="worse"
        )
    assert [e for _, _, e in d.sent(alert)] == ["fired", "fired"]
    d.resolve(alert)  # the channels told it fired hear it resolved (Alertmanager #226)
    assert sorted((c, e) for _, c, e in d.sent(alert)) == [
        ("console", "fired"),
        ("console", "resolved"),
        ("pager", "fired"),
        ("pager", "resolved"),
    ]
    with session_scope(factory) as s:
        assert s.get(MutedAlert, alert) is None


def test_a_silence_that_starts_later_mutes_firing_alerts_when_it_starts(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config())
    alert = d.fire("orders", {"service": "shop"})
    other = d.fire("orders", {"service": "blog"})
    sid = silence(d, 'service="shop"', starts_in=HOUR)
    assert d.step(30 * MINUTE) == 0
    assert d.events(alert, ["suppressed"]) == []
    assert d.step(30 * MINUTE) == 1
    with session_scope(factory) as s:
        muted = s.get(MutedAlert, alert)
        assert muted is not None
        assert (muted.kind, muted.ref, muted.recheck_at) == ("silence", sid, d.clock.now() + HOUR)
        assert s.get(MutedAlert, other) is None
        assert s.get(Silence, sid).rescreen_at is None  # type: ignore[union-attr]
    assert d.step(HOUR) == 1  # it ended on its own: told again
    assert [e for _, _, e in d.sent(alert)] == ["fired"] * 4


def test_a_recurring_silence_mutes_firing_alerts_at_each_occurrence(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config())
    alert = d.fire("backup")  # Tuesday 14:00 UTC
    sid = silence(d, 'check="backup"', every="0 15 * * *", duration=HOUR)
    with session_scope(factory) as s:  # the series runs for a week
        s.get(Silence, sid).ends_at = clock.now() + timedelta(days=7)  # type: ignore[union-attr]
    assert d.step() == 0  # between occurrences
    assert d.step(HOUR) == 1  # 15:00: the first occurrence
    assert d.step(HOUR) == 1  # 16:00: released, told again
    with session_scope(factory) as s:
        assert s.get(Silence, sid).rescreen_at == clock.now() + 23 * HOUR  # type: ignore[union-attr]
    assert d.step(23 * HOUR) == 1  # the next day's occurrence mutes it again
    assert len(d.events(alert, ["suppressed"])) == 2


def test_a_window_or_known_issue_begun_while_alerts_fire_mutes_them_too(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config())
    db = d.fire("db_up", {"service": "db"})
    printful = d.fire("provider", {"service": "printful"}, message="Request timeout")
    now = clock.now()
    with session_scope(factory) as s:
        window = maintenance.create_window(s, "db", ["db"], now, now + HOUR, "ana", now=now).id
        known_issues.create_known_issue(
            s, "PF-1", "Printful degraded", now + HOUR, now=now, message_contains="timeout"
        )
    assert d.step() == 2
    assert [e.data["by"] for e in d.events(db, ["suppressed"])] == ["maintenance"]
    assert [e.data["by"] for e in d.events(printful, ["suppressed"])] == ["known_issue"]
    with session_scope(factory) as s:
        maintenance.end_window(s, window, clock.now())
    assert d.step() == 1
    assert len(d.sent(db)) == 4


def test_acknowledged_and_already_muted_alerts_are_left_as_they_are(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config())
    acked = d.fire("orders", {"service": "shop"})
    d.ack(acked)
    first = silence(d, 'check="payments"')
    muted = d.fire("payments", {"service": "shop"})
    silence(d, 'service="shop"')
    assert d.step() == 0
    with session_scope(factory) as s:
        assert s.get(MutedAlert, acked) is None
        row = s.get(MutedAlert, muted)
        assert row is not None
        assert row.ref == first


GROUPED = """
grouping: {by: [service], group_wait: 30s, group_interval: 5m, repeat_interval: 1h}
"""


def test_a_grouped_alert_silenced_while_firing_gets_no_reminders_until_released(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config(GROUPED))
    alert = d.fire("orders", {"service": "shop"})
    d.step(MINUTE)  # the group's first flush
    assert [e for _, _, e in d.sent(alert)] == ["fired", "fired"]
    sid = silence(d, 'service="shop"', lasts=3 * HOUR)
    d.step()
    d.step(HOUR)  # the reminder is due, but its only member is muted
    assert len(d.sent(alert)) == 2
    with session_scope(d.factory) as s:
        silences.expire_silence(s, sid, d.clock.now())
    d.step()  # released: back in its group, whose next flush announces it
    d.step(5 * MINUTE)
    assert [e for _, _, e in d.sent(alert)] == ["fired"] * 4


SEEDED = """
silences:
  - {id: deploy, matchers: ['service="shop"'], starts_at: 2026-11-17T13:00Z,
     ends_at: 2026-11-17T18:00Z, comment: "deploy freeze"}
"""


def test_a_silence_from_the_configuration_mutes_alerts_already_firing_when_seeded(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config(SEEDED))
    alert = d.fire("orders", {"service": "shop"})  # fired before the worker seeded it
    with session_scope(factory) as s:
        assert noise.seed(s, d.config, clock.now()) == 1
    assert d.step() == 1
    (event,) = d.events(alert, ["suppressed"])
    assert event.data["by"] == "silence"


def test_an_alert_acknowledged_while_silenced_is_not_told_it_fires_when_the_silence_ends(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config(PAGING))
    alert = d.fire("orders", {"service": "shop"})
    sid = silence(d, 'service="shop"')
    d.step(MINUTE)
    d.ack(alert)  # someone owns it now
    with session_scope(d.factory) as s:
        silences.expire_silence(s, sid, d.clock.now())
    assert d.step() == 1
    assert [e for _, _, e in d.sent(alert)] == ["fired"] * 2 + ["acknowledged"] * 2
    assert escalation_states(d, alert) == [("stopped", ["fired", "cancelled"])]
    assert d.timeline(alert)[-1] == (
        "released",
        f"no longer muted by silence {sid}; acknowledged, so nobody is told it fires again",
    )
    d.clock.advance(20 * MINUTE)
    assert fire_due_steps(d) == 0
    assert d.step() == 0
    with session_scope(factory) as s:
        assert s.get(MutedAlert, alert) is None


def test_an_alert_silenced_from_the_start_and_acknowledged_tells_nobody_when_it_ends(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = Desk(factory, clock, noise_config(PAGING))
    silence(d, 'service="shop"')
    alert = d.fire("orders", {"service": "shop"})
    d.ack(alert)
    assert d.step(2 * HOUR) == 1  # the silence ended on its own
    assert d.sent(alert) == []
    assert escalation_states(d, alert) == []
