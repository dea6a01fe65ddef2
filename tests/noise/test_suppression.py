"""Maintenance windows, known issues, silences and inhibition through the real pipeline, on
both stores: the reference's scenarios, what is recorded, and what is released later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import Conflict, Invalid
from tocsin.noise import known_issues, maintenance, silences
from tocsin.noise.models import KnownIssue, MaintenanceWindow, Silence

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

DeskFactory = Callable[..., Desk]


@pytest.fixture
def desk(factory: sessionmaker[Session], clock: VirtualClock) -> DeskFactory:
    def make(extra: str = "") -> Desk:
        return Desk(factory, clock, noise_config(extra))

    return make


def test_a_maintenance_window_mutes_the_payment_checks_but_records_them(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk()
    now = clock.now()
    with session_scope(factory) as s:
        window = maintenance.create_window(
            s, "Stripe API upgrade", ["payments"], now, now + HOUR, "ana", now=now
        )
        ahead = maintenance.create_window(
            s, "Checkout deploy", ["checkout"], now + 2 * HOUR, now + 3 * HOUR, "ana", now=now
        )
        window_id, ahead_id = window.id, ahead.id
    muted = [
        d.fire("payment_success_rate", {"service": "payments"}),
        d.fire("stripe_webhooks", {"service": "payments"}),
    ]
    told = d.fire("checkout_errors", {"service": "checkout"})  # its window is only scheduled
    assert [a for a, _, _ in d.sent()] == [told, told]
    for alert_id in muted:
        (event,) = d.events(alert_id, ["suppressed"])
        assert event.data == {"by": "maintenance", "id": window_id, "event": "fired"}
        assert event.note == "maintenance window “Stripe API upgrade”"
    with session_scope(factory) as s:
        assert s.get(MaintenanceWindow, window_id).suppressed_count == 2  # type: ignore[union-attr]
        assert s.get(MaintenanceWindow, ahead_id).suppressed_count == 0  # type: ignore[union-attr]
    d.resolve(muted[1])  # resolved inside the window: nobody was told, nobody is told
    assert d.step(HOUR) == 1  # the window is over; the payment check still fails
    assert d.sent(muted[0]) == [(muted[0], "console", "fired"), (muted[0], "pager", "fired")]
    assert d.sent(muted[1]) == []
    assert [k for k, _ in d.timeline(muted[0])] == ["fired", "suppressed", "released"]


def test_ending_a_window_early_releases_what_it_muted(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk()
    now = clock.now()
    with session_scope(factory) as s:
        window_id = maintenance.create_window(s, "db", ["db"], now, now + HOUR, "ana", now=now).id
    alert = d.fire("db_up", {"service": "db"})
    assert d.sent() == []
    with session_scope(factory) as s:
        maintenance.end_window(s, window_id, clock.now())
        with pytest.raises(Conflict, match="already ended"):
            maintenance.end_window(s, window_id, clock.now())
    d.step(MINUTE)
    assert len(d.sent(alert)) == 2


def test_a_known_issue_mutes_printful_timeouts_for_an_hour_and_counts_them(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk()
    now = clock.now()
    with session_scope(factory) as s:
        known_issues.create_known_issue(
            s,
            "PRINT-2025-11-16-001",
            "Printful API degraded, ticket #4411",
            now + HOUR,
            now=now,
            matchers=['service="printful_api"'],
            message_contains="timeout",
        )
    timeouts = [
        d.fire(
            "provider_health",
            {"service": "printful_api", "order": str(i)},
            message="Request timeout after 30 s",
        )
        for i in range(3)
    ]
    error = d.fire("provider_health", {"service": "printful_api", "order": "x"}, message="HTTP 500")
    other = d.fire("provider_health", {"service": "printify_api"}, message="timeout")
    assert {a for a, _, _ in d.sent()} == {error, other}
    with session_scope(factory) as s:
        issue = s.get(KnownIssue, "PRINT-2025-11-16-001")
        assert issue is not None
        assert issue.suppressed_count == 3
    for alert_id in timeouts[1:]:
        d.resolve(alert_id)
    d.step(HOUR)  # expired; the first timeout still fires, so now it is told
    late = d.fire("provider_health", {"service": "printful_api", "order": "9"}, message="timeout")
    assert {a for a, _, e in d.sent() if e == "fired"} == {error, other, timeouts[0], late}
    assert d.sent(timeouts[1]) == []


def test_known_issue_input_is_checked_before_anything_is_written(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    bad = [
        ({"issue_id": "bad id!", "matchers": ['a="b"']}, "not an id"),
        ({"issue_id": "K-1"}, "needs a pattern"),
        ({"issue_id": "K-1", "message_regex": "("}, "not a regular expression"),
        ({"issue_id": "K-1", "matchers": ['a=~"("']}, "bad regular expression"),
        ({"issue_id": "K-1", "matchers": ['a="b"'], "expires_at": now}, "in the future"),
    ]
    for kwargs, message in bad:
        with session_scope(factory) as s:
            kwargs.setdefault("expires_at", now + HOUR)
            issue_id = kwargs.pop("issue_id")
            expires_at = kwargs.pop("expires_at")
            with pytest.raises(Invalid, match=message):
                known_issues.create_known_issue(s, issue_id, "why", expires_at, now=now, **kwargs)
    with session_scope(factory) as s:
        assert known_issues.list_known_issues(s, now, include_expired=True) == []
        known_issues.create_known_issue(s, "K-1", "why", now + HOUR, now=now, message_contains="x")
    with session_scope(factory) as s, pytest.raises(Conflict, match="exists until"):
        known_issues.create_known_issue(s, "K-1", "why", now + HOUR, now=now, message_contains="y")


@pytest.mark.parametrize(
    ("matcher", "labels", "muted"),
    [
        ('service=~"pay"', {"service": "payments"}, False),  # regexes are anchored
        ('service=~"pay.*"', {"service": "payments"}, True),
        ('service="payments", team=""', {"service": "payments"}, True),  # missing = empty
        ('service="payments", team=""', {"service": "payments", "team": "ops"}, False),
        ('check="orders", env!~"dev|staging"', {"env": "prod"}, True),
        ('check="orders", env!~"dev|staging"', {"env": "staging"}, False),
        ('severity="HIGH", check="orders"', {}, True),  # check and severity are labels too
        ('check="orders", service!="payments"', {"service": "payments"}, False),
        ('check="orders", service=""', {"service": ""}, True),  # an empty value is missing
    ],
)
def test_silence_matchers_behave_as_in_alertmanager(
    desk: DeskFactory,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    matcher: str,
    labels: dict[str, str],
    muted: bool,
) -> None:
    d = desk()
    now = clock.now()
    with session_scope(factory) as s:
        silences.create_silence(s, matcher.split(", "), now, now + HOUR, "ana", "why", now=now)
    alert = d.fire("orders", labels)
    assert (d.sent(alert) == []) == muted


def test_bad_silences_are_refused_and_nothing_is_written(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    cases = [
        ([], now, now + HOUR, "ana", "why", {}, "at least one matcher"),
        (['team=~".*"'], now, now + HOUR, "ana", "why", {}, "would mute all"),
        (['a="b"', 'c=~"("'], now, now + HOUR, "ana", "why", {}, "bad regular expression"),
        (['a="b"'], now, now - HOUR, "ana", "why", {}, "must be after the start"),
        (['a="b"'], now - 2 * HOUR, now - HOUR, "ana", "why", {}, "in the past"),
        (['a="b"'], now, now + HOUR, "", "why", {}, "creator"),
        (['a="b"'], now, now + HOUR, "ana", " ", {}, "comment"),
        (['a="b"'], now, now + HOUR, "ana", "why", {"every": "0 2 * * sun"}, "go|both"),
        (
            ['a="b"'],
            now,
            now + HOUR,
            "ana",
            "why",
            {"every": "61 * * * *", "duration": HOUR},
            "cron",
        ),
        (
            ['a="b"'],
            now,
            now + HOUR,
            "ana",
            "why",
            {"every": "0 2 * * sun", "duration": HOUR, "timezone": "Mars/Base"},
            "time zone",
        ),
    ]
    for matchers, start, end, by, comment, extra, message in cases:
        with session_scope(factory) as s, pytest.raises(Invalid, match=message):
            silences.create_silence(s, matchers, start, end, by, comment, now=now, **extra)
    with session_scope(factory) as s:
        assert silences.list_silences(s, now, include_expired=True) == []


def test_a_silence_lists_expires_and_lets_a_still_firing_alert_through(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk()
    now = clock.now()
    with session_scope(factory) as s:
        sid = silences.create_silence(
            s, ['check="orders"'], now, now + 2 * HOUR, "ana", "deploy", now=now
        ).id
    alert = d.fire("orders")
    assert d.sent() == []
    with session_scope(factory) as s:
        (listed,) = silences.list_silences(s, clock.now())
        assert (listed.id, listed.suppressed_count) == (sid, 1)
        silences.expire_silence(s, sid, clock.now())
    with session_scope(factory) as s:
        assert silences.list_silences(s, clock.now()) == []
        assert len(silences.list_silences(s, clock.now(), include_expired=True)) == 1
        with pytest.raises(Conflict):
            silences.expire_silence(s, sid, clock.now())
    d.step()
    assert [e for _, _, e in d.sent(alert)] == ["fired", "fired"]


def test_a_recurring_silence_mutes_only_during_its_occurrences(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk()
    now = clock.now()  # Tuesday 14:00 UTC
    with session_scope(factory) as s:
        silences.create_silence(
            s,
            ['check="backup"'],
            now,
            now + timedelta(days=30),
            "ana",
            "weekly backup",
            now=now,
            every="0 2 * * sun",
            duration=2 * HOUR,
            timezone="Europe/Paris",
        )
    first = d.fire("backup")
    assert len(d.sent(first)) == 2  # Tuesday: not muted
    d.resolve(first)
    clock.advance(timedelta(days=4, hours=11, minutes=30))  # Sunday 01:30 UTC = 02:30 Paris
    second = d.fire("backup")
    assert d.sent(second) == []
    d.step(timedelta(minutes=90))  # 03:00 UTC = 04:00 Paris: the occurrence ended
    assert len(d.sent(second)) == 2


def test_a_silence_about_to_expire_tells_its_creator_once(
    desk: DeskFactory,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = desk()
    now = clock.now()
    with session_scope(factory) as s:
        sid = silences.create_silence(
            s, ['check="orders"'], now, now + HOUR, "ana", "deploy", now=now
        ).id
    alert = d.fire("orders")
    d.step(40 * MINUTE)
    assert "expires" not in caplog.text
    d.step(10 * MINUTE)
    d.step(MINUTE)
    lines = [r.getMessage() for r in caplog.records if "expires in" in r.getMessage()]
    assert lines == [
        f"silence {sid} by ana (deploy) expires in 10 min at "
        f"{(now + HOUR).isoformat()}; extend it or let alerts through"
    ]
    assert [k for k, _ in d.timeline(alert)] == ["fired", "suppressed", "silence_expiring"]
    with session_scope(factory) as s:
        assert s.get(Silence, sid).warned_at == now + 50 * MINUTE  # type: ignore[union-attr]


INHIBIT = """
inhibit_rules:
  - source_matchers: ['check="db_unreachable"']
    target_matchers: ['check!="db_unreachable"']
    equal: [service]
"""


def test_an_inhibiting_database_alert_mutes_the_rest_of_its_service(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk(INHIBIT)
    db = d.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    orders = d.fire("orders_stuck", {"service": "shop"})
    errors = d.fire("error_rate", {"service": "shop"})
    blog = d.fire("error_rate", {"service": "blog"})
    assert {a for a, _, _ in d.sent()} == {db, blog}
    (event,) = d.events(orders, ["suppressed"])
    assert event.data == {"by": "inhibition", "id": str(db), "event": "fired"}
    assert event.note == f"inhibited by alert {db} (inhibit_rules[0])"
    d.resolve(orders)  # resolved while inhibited: nobody is told
    d.resolve(db)
    d.step()  # the database is back; the error rate still fires and is now told
    assert {a for a, _, e in d.sent() if e == "fired"} == {db, blog, errors}
    assert d.sent(orders) == []


def test_those_paged_get_the_resolved_notice_even_when_silenced_meanwhile(
    desk: DeskFactory, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    d = desk()
    alert = d.fire("orders", {"service": "shop"})
    now = clock.now()
    with session_scope(factory) as s:
        silences.create_silence(s, ['service="shop"'], now, now + HOUR, "ana", "noisy", now=now)
    clock.advance(MINUTE)
    d.ack(alert)
    clock.advance(MINUTE)
    d.resolve(alert)
    assert [e for _, _, e in d.sent(alert)] == ["fired"] * 2 + ["acknowledged"] * 2 + [
        "resolved"
    ] * 2
    quiet = d.fire("orders", {"service": "shop"})
    d.resolve(quiet)
    assert d.sent(quiet) == []
    assert d.timeline(quiet)[-1] == (
        "suppressed",
        "nobody was told it fired, so nobody is told it was resolved",
    )
