"""Overrides in the store and the contacts an escalation step resolves to, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.config.crosscheck import check_target
from tocsin.db import session_scope
from tocsin.errors import Invalid, NotFound
from tocsin.oncall import service
from tocsin.oncall.models import OncallOverride
from tocsin.oncall.service import Contact, contacts_for_channel

# The test clock starts on Tuesday 2026-11-17 at 09:00 New York: ana's week (see the layer).
CONFIG = """
channels:
  mail: {type: email, host: 127.0.0.1, from_address: tocsin@example.com, to: [ops@example.com]}
  sms: {type: twilio, account_sid: AC1, auth_token: t, from_number: "+15550100", to: ["+15550101"]}
  slack: {type: slack, url: "https://hooks.slack.invalid/x"}
  discord: {type: discord, url: "https://discord.invalid/x"}
  pager: {type: pagerduty, routing_key: rk}
  console: {type: console}
users:
  ana: {name: Ana Ruiz, email: ana@example.com, phone: "+15550100001", slack: U0ANA,
        discord: "111111111111111111", timezone: Europe/Madrid}
  ben: {name: Ben Okafor, email: ben@example.com}
  cy: {}
schedules:
  primary:
    timezone: America/New_York
    layers:
      - {name: weekly, start: 2026-11-17T09:00, rotation: 1w, participants: [ana, ben]}
    backup: senior
  senior:
    timezone: America/New_York
    layers:
      - {name: weekly, start: 2026-11-16T09:00, rotation: 1w, participants: [cy]}
  nights:
    layers:
      - {name: nights, start: 2026-11-16T00:00, rotation: 1d, participants: [ben],
         restrict: {between: "00:00-06:00"}}
"""


@pytest.fixture
def config() -> TocsinConfig:
    return parse(CONFIG, "oncall.yaml", env={})[0]


def override(
    session: Session, config: TocsinConfig, clock: VirtualClock, **changes: object
) -> OncallOverride:
    now = clock.now()
    options: dict[str, object] = {
        "schedule": "primary",
        "user": "ben",
        "start": now + timedelta(hours=1),
        "end": now + timedelta(hours=3),
        "by": "ana",
        "reason": "dentist",
    }
    options.update(changes)
    return service.create_override(session, config, now=now, **options)  # type: ignore[arg-type]


def names(contacts: list[Contact]) -> list[str]:
    return [c.user for c in contacts]


def test_an_override_hands_the_shift_over_for_its_range_only(
    factory: sessionmaker[Session], config: TocsinConfig, clock: VirtualClock
) -> None:
    now = clock.now()
    with session_scope(factory) as session:
        made = override(session, config, clock)
    with session_scope(factory) as session:
        before = service.resolve_targets(session, config, "schedule:primary", now)
        during = service.resolve_targets(
            session, config, "schedule:primary", now + timedelta(hours=2)
        )
        after = service.resolve_targets(
            session, config, "schedule:primary", now + timedelta(hours=3)
        )
        (listed,) = service.list_overrides(session)

    assert (names(before), names(during), names(after)) == (["ana"], ["ben"], ["ana"])
    assert (listed.id, listed.created_by, listed.reason, listed.created_at) == (
        made.id,
        "ana",
        "dentist",
        now,
    )


def test_a_deleted_override_no_longer_counts(
    factory: sessionmaker[Session], config: TocsinConfig, clock: VirtualClock
) -> None:
    at = clock.now() + timedelta(hours=2)
    with session_scope(factory) as session:
        made = override(session, config, clock)
    with session_scope(factory) as session:
        service.delete_override(session, made.id)
    with session_scope(factory) as session:
        assert names(service.resolve_targets(session, config, "schedule:primary", at)) == ["ana"]
        with pytest.raises(NotFound, match=f"override {made.id} does not exist"):
            service.delete_override(session, made.id)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"schedule": "nope"}, "schedule 'nope' does not exist"),
        ({"user": "zed"}, "user 'zed' does not exist"),
        ({"end": datetime(2026, 11, 17, 14, 30, tzinfo=UTC)}, "ends .* before it starts"),
        (
            {
                "start": datetime(2026, 11, 1, tzinfo=UTC),
                "end": datetime(2026, 11, 2, tzinfo=UTC),
            },
            "would already be over",
        ),
        ({"end": datetime(2027, 6, 1, tzinfo=UTC)}, "at most 90 days"),
        ({"by": " "}, "say who"),
    ],
)
def test_a_bad_override_is_refused_and_changes_nothing(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: VirtualClock,
    changes: dict[str, object],
    error: str,
) -> None:
    with pytest.raises((Invalid, NotFound), match=error), session_scope(factory) as session:
        override(session, config, clock, **changes)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(OncallOverride)) == 0


def test_targets_resolve_to_users_primaries_and_backups(
    factory: sessionmaker[Session], config: TocsinConfig, clock: VirtualClock
) -> None:
    now = clock.now()
    with session_scope(factory) as session:
        (ana,) = service.resolve_targets(session, config, "user:ana", now)
        backup = service.resolve_targets(session, config, "schedule:primary:backup", now)
        next_week = service.resolve_targets(
            session, config, "schedule:primary", now + timedelta(days=7)
        )

    assert ana == Contact(
        "ana",
        "Ana Ruiz",
        "ana@example.com",
        "+15550100001",
        "U0ANA",
        "111111111111111111",
        "Europe/Madrid",
    )
    assert names(backup) == ["cy"]
    assert names(next_week) == ["ben"]


def test_a_schedule_with_nobody_on_call_resolves_to_nobody(
    factory: sessionmaker[Session], config: TocsinConfig, clock: VirtualClock
) -> None:
    with session_scope(factory) as session:
        assert service.resolve_targets(session, config, "schedule:nights", clock.now()) == []


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("user:zed", "user 'zed' does not exist"),
        ("schedule:nope", "schedule 'nope' does not exist"),
        ("schedule:senior:backup", "has no backup"),
        ("team:ops", "is not user:NAME"),
        ("user:ana:backup", "is not user:NAME"),
    ],
)
def test_a_bad_target_is_invalid(config: TocsinConfig, target: str, error: str) -> None:
    with pytest.raises(Invalid, match=error):
        check_target(config, target)


def test_each_channel_kind_gets_the_address_it_needs(config: TocsinConfig) -> None:
    ana = service.contact(config, "ana")
    cy = service.contact(config, "cy")

    found = {name: contacts_for_channel(ana, spec) for name, spec in config.channels.items()}

    assert found == {
        "mail": "ana@example.com",
        "sms": "+15550100001",
        "slack": "U0ANA",
        "discord": "111111111111111111",
        "pager": None,
        "console": "ana",
    }
    assert contacts_for_channel(cy, config.channels["mail"]) is None
    assert cy.name == "cy"


def test_a_long_override_ends_where_a_distant_newer_one_begins(
    factory: sessionmaker[Session], config: TocsinConfig, clock: VirtualClock
) -> None:
    now = clock.now()
    later = now + timedelta(days=30)  # far outside the week around `now` read first
    with session_scope(factory) as session:
        override(session, config, clock, user="cy", start=now, end=now + timedelta(days=60))
        override(session, config, clock, user="ana", start=later, end=later + timedelta(days=1))
    with session_scope(factory) as session:
        found = service.on_call(session, config, "primary", now)

    assert (found.primary.user, found.primary.start, found.primary.end) == ("cy", now, later)
