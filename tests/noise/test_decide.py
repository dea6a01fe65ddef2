"""The pure decisions, without a store: windows and recurrence, inhibition, flapping,
grouping and the summary text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tocsin.matchers import parse_matchers
from tocsin.noise.decide import (
    Candidate,
    InhibitRule,
    Occurrence,
    Window,
    flap_step,
    group_key,
    group_labels,
    inhibitor,
    known_issue_applies,
    maintenance_applies,
    match_labels,
    next_flush,
    summarise,
)

T0 = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)  # a Tuesday
YEAR = timedelta(days=365)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_plain_window_is_half_open() -> None:
    window = Window(T0, T0 + timedelta(hours=2))
    assert window.active_until(T0 - timedelta(seconds=1)) is None
    assert window.active_until(T0) == T0 + timedelta(hours=2)
    assert window.active_until(T0 + timedelta(hours=2)) is None


def test_a_recurring_window_covers_every_sunday_two_to_four_in_its_zone() -> None:
    # Europe/Paris is UTC+1 in November: 02:00–04:00 local is 01:00–03:00 UTC.
    window = Window(T0, T0 + YEAR, "0 2 * * sun", timedelta(hours=2), "Europe/Paris")
    sunday = utc(2026, 11, 22, 1, 0)
    assert window.active_until(sunday - timedelta(minutes=1)) is None
    assert window.active_until(sunday) == utc(2026, 11, 22, 3, 0)
    assert window.active_until(sunday + timedelta(minutes=119)) == utc(2026, 11, 22, 3, 0)
    assert window.active_until(sunday + timedelta(hours=2)) is None
    assert window.active_until(utc(2026, 11, 24, 1, 30)) is None  # a Tuesday
    assert window.next_start(T0) == sunday


def test_a_recurring_window_follows_summer_time() -> None:
    window = Window(T0, T0 + YEAR, "0 2 * * sun", timedelta(hours=2), "Europe/Paris")
    # In July Paris is UTC+2: 02:00 local is 00:00 UTC.
    assert window.active_until(utc(2027, 7, 4, 0, 30)) == utc(2027, 7, 4, 2, 0)
    assert window.active_until(utc(2027, 7, 4, 2, 30)) is None


def test_a_recurring_window_never_reaches_outside_its_series() -> None:
    window = Window(
        utc(2026, 11, 22, 1, 30), T0 + YEAR, "0 2 * * sun", timedelta(hours=2), "Europe/Paris"
    )
    # The 01:00 UTC occurrence began before the series did.
    assert window.active_until(utc(2026, 11, 22, 2, 0)) is None
    ends = Window(T0, utc(2026, 11, 22, 2, 0), "0 2 * * sun", timedelta(hours=2), "Europe/Paris")
    assert ends.active_until(utc(2026, 11, 22, 1, 30)) == utc(2026, 11, 22, 2, 0)


def test_maintenance_matches_the_service_label_only() -> None:
    assert maintenance_applies(["payments", "checkout"], {"service": "payments"})
    assert not maintenance_applies(["payments"], {"service": "payment"})
    assert not maintenance_applies(["payments"], {})


def test_a_known_issue_needs_every_part_of_its_pattern() -> None:
    printful = parse_matchers('service="printful_api"')
    labels = {"service": "printful_api"}
    assert known_issue_applies(printful, "timeout", None, labels, "Request TIMEOUT after 30s")
    assert not known_issue_applies(printful, "timeout", None, labels, "HTTP 500")
    assert not known_issue_applies(printful, "timeout", None, {"service": "printify"}, "timeout")
    assert known_issue_applies([], None, r"5\d\d", {}, "got 503 from upstream")
    assert not known_issue_applies([], None, r"5\d\d", {}, "got 404")


def rule(source: str, target: str, *equal: str) -> InhibitRule:
    return InhibitRule(tuple(parse_matchers(source)), tuple(parse_matchers(target)), equal)


def test_a_firing_source_inhibits_targets_sharing_the_equal_labels() -> None:
    rules = [rule('check="db_unreachable"', 'check!="db_unreachable"', "service")]
    db = Candidate(1, "fp-db", {"check": "db_unreachable", "service": "shop"})
    found = inhibitor(rules, "fp-x", {"check": "orders", "service": "shop"}, [db])
    assert found == (0, db)
    assert inhibitor(rules, "fp-x", {"check": "orders", "service": "blog"}, [db]) is None


def test_an_alert_never_inhibits_itself() -> None:
    rules = [rule('severity="CRITICAL"', 'severity=~"CRITICAL|HIGH"', "service")]
    me = Candidate(1, "fp-me", {"severity": "CRITICAL", "service": "shop"})
    assert inhibitor(rules, "fp-me", dict(me.labels), [me]) is None
    other = Candidate(2, "fp-other", {"severity": "CRITICAL", "service": "shop"})
    assert inhibitor(rules, "fp-me", dict(me.labels), [me, other]) == (0, other)


def test_equal_labels_missing_on_both_sides_count_as_equal() -> None:
    # Alertmanager compares missing labels as empty strings.
    rules = [rule('check="db"', 'check="api"', "region")]
    db = Candidate(1, "a", {"check": "db"})
    assert inhibitor(rules, "b", {"check": "api"}, [db]) == (0, db)
    assert inhibitor(rules, "b", {"check": "api", "region": "eu"}, [db]) is None


def test_matchers_see_check_and_severity_but_explicit_labels_win() -> None:
    assert match_labels({"service": "shop"}, "orders", "HIGH") == {
        "service": "shop",
        "check": "orders",
        "alertname": "orders",
        "severity": "HIGH",
    }
    assert match_labels({"check": "mine"}, "orders", "HIGH")["check"] == "mine"


def test_more_than_threshold_changes_in_the_window_is_flapping() -> None:
    changes: tuple[datetime, ...] = ()
    since = None
    started = []
    for minute in range(0, 10, 2):
        flap = flap_step(
            changes,
            since,
            T0 + timedelta(minutes=minute),
            threshold=3,
            window=timedelta(minutes=10),
        )
        changes, since = flap.changes, flap.flapping_since
        started.append(flap.started)
    assert started == [False, False, False, True, False]  # the 4th change is "more than 3"
    assert since == T0 + timedelta(minutes=6)


def test_changes_older_than_the_window_are_forgotten() -> None:
    old = tuple(T0 + timedelta(minutes=m) for m in range(3))
    flap = flap_step(old, None, T0 + timedelta(hours=1), threshold=3, window=timedelta(minutes=10))
    assert flap.changes == (T0 + timedelta(hours=1),)
    assert not flap.started


def test_group_key_depends_on_the_grouping_labels_and_channels_only() -> None:
    a = group_labels(["service", "check"], {"service": "pay", "check": "c", "id": "1"})
    b = group_labels(["service", "check"], {"service": "pay", "check": "c", "id": "2"})
    assert a == b == {"service": "pay", "check": "c"}
    assert group_key(a, ["discord", "console"]) == group_key(b, ["console", "discord"])
    assert group_key(a, ["console"]) != group_key(a, ["discord"])
    assert group_labels(["team"], {}) == {"team": ""}


def test_a_new_group_waits_group_wait_and_a_flushed_one_group_interval() -> None:
    wait, interval = timedelta(seconds=30), timedelta(minutes=5)
    assert next_flush(T0, None, group_wait=wait, group_interval=interval) == T0 + wait
    flushed = T0 - timedelta(minutes=1)
    assert next_flush(T0, flushed, group_wait=wait, group_interval=interval) == flushed + interval
    long_ago = T0 - timedelta(hours=1)
    assert next_flush(T0, long_ago, group_wait=wait, group_interval=interval) == T0 + wait


def occurrence(i: int, seconds: float, kind: str = "fired") -> Occurrence:
    return Occurrence(
        i,
        kind,
        T0 + timedelta(seconds=seconds),
        "Payment processing stopped",
        f"no payment for {10 + i} min",
        "CRITICAL",
        {"service": "payments"},
    )


def test_the_summary_reads_like_the_reference() -> None:
    items = [occurrence(i, s) for i, s in enumerate([0, 10, 20, 40, 60, 80, 94])]
    summary = summarise(items, open_count=7)
    assert summary.title == "Payment processing stopped (7 occurrences in 94 s)"
    assert summary.message.startswith("This alert fired 7 times in 94 seconds.")
    assert (summary.count, summary.event, summary.severity) == (7, "fired", "CRITICAL")
    assert (summary.first_at, summary.latest_at) == (T0, T0 + timedelta(seconds=94))
    assert [s["alert_id"] for s in summary.samples] == [0, 1, 2]


def test_a_single_occurrence_is_sent_as_it_is() -> None:
    summary = summarise([occurrence(0, 0)], open_count=1)
    assert summary.title == "Payment processing stopped"
    assert summary.message == "no payment for 10 min"


def test_a_summary_says_which_members_flap() -> None:
    flapping = replace(occurrence(1, 10), flapping=True)
    summary = summarise([occurrence(0, 0), flapping], open_count=2)
    assert "1 flapping: changing state too often, quiet until stable." in summary.message
    alone = summarise([flapping], open_count=1)
    assert alone.message.endswith("Flapping: changing state too often, quiet until stable.")


def test_a_flush_of_resolutions_says_so() -> None:
    summary = summarise([occurrence(0, 0, "resolved"), occurrence(1, 5, "resolved")], 0)
    assert summary.event == "resolved"
    assert summary.title == "Payment processing stopped (2 resolved)"
    assert "All resolved." in summary.message
