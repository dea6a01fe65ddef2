"""The index of possible inhibitors on both stores: a new target looks up only the open
sources sharing its `equal` values, and the index follows sources as they fire, change
severity and resolve, and is filled for alerts already open when the worker starts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config

from tocsin import actions, noise
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.noise.models import InhibitSource

INHIBIT = """
inhibit_rules:
  - source_matchers: ['check="db_unreachable"', 'severity="CRITICAL"']
    target_matchers: ['check!="db_unreachable"']
    equal: [service]
"""


def indexed(factory: sessionmaker[Session]) -> list[int]:
    with session_scope(factory) as s:
        return list(s.scalars(select(InhibitSource.alert_id).order_by(InhibitSource.alert_id)))


def muted_by(desk: Desk, alert_id: int) -> str | None:
    events = desk.events(alert_id, ["suppressed"])
    return str(events[0].data["id"]) if events else None


def test_only_sources_are_indexed_and_a_target_finds_the_one_of_its_service(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    desk = Desk(factory, clock, noise_config(INHIBIT))
    shop = desk.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    blog = desk.fire("db_unreachable", {"service": "blog"}, severity="CRITICAL")
    quiet = desk.fire("db_unreachable", {"service": "wiki"}, severity="HIGH")  # no source
    targets = [desk.fire("errors", {"service": "shop", "i": str(i)}) for i in range(20)]
    assert indexed(factory) == [shop, blog]
    assert {muted_by(desk, t) for t in targets} == {str(shop)}
    assert muted_by(desk, desk.fire("errors", {"service": "blog"})) == str(blog)
    assert muted_by(desk, desk.fire("errors", {"service": "wiki"})) is None
    assert muted_by(desk, quiet) is None
    # Missing counts as empty, as in Alertmanager: no service on either side still matches.
    nameless = desk.fire("db_unreachable", severity="CRITICAL")
    assert muted_by(desk, desk.fire("errors")) == str(nameless)


def test_the_index_follows_severity_changes_and_resolutions(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    desk = Desk(factory, clock, noise_config(INHIBIT))
    db = desk.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    with session_scope(factory) as s:
        actions.alerts.change_severity(s, desk.pipeline, db, "HIGH", clock.now())
    assert indexed(factory) == []  # no longer CRITICAL: no longer a source
    assert muted_by(desk, desk.fire("errors", {"service": "shop"})) is None
    with session_scope(factory) as s:
        actions.alerts.change_severity(s, desk.pipeline, db, "CRITICAL", clock.now())
    assert indexed(factory) == [db]
    assert muted_by(desk, desk.fire("latency", {"service": "shop"})) == str(db)
    desk.resolve(db)
    assert indexed(factory) == []
    assert muted_by(desk, desk.fire("disk", {"service": "shop"})) is None


def test_sources_open_before_the_rule_existed_are_indexed_by_the_seed(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    before = Desk(factory, clock, noise_config())
    db = before.fire("db_unreachable", {"service": "shop"}, severity="CRITICAL")
    before.fire("errors", {"service": "shop"})
    assert indexed(factory) == []
    desk = Desk(factory, clock, noise_config(INHIBIT))
    for _ in range(2):  # a restart seeds again: nothing is written twice
        with session_scope(factory) as s:
            noise.seed(s, desk.config, clock.now())
    assert indexed(factory) == [db]
    assert muted_by(desk, desk.fire("latency", {"service": "shop"})) == str(db)
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(InhibitSource)) == 1
