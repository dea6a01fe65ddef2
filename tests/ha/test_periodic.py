"""`tocsin.periodic`: one row per (job, slot), inserted with ON CONFLICT DO NOTHING and
claimed by compare-and-set, on both stores; collided on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.race import collide, pair

from tocsin import periodic
from tocsin.clock import VirtualClock
from tocsin.db import is_postgresql, session_scope

HOUR = timedelta(hours=1)


def test_slots_are_the_starts_of_their_periods() -> None:
    at = datetime(2026, 12, 2, 4, 37, 12, tzinfo=UTC)
    assert periodic.slot_at(at, HOUR) == datetime(2026, 12, 2, 4, tzinfo=UTC)
    assert periodic.slot_at(at, timedelta(days=1)) == datetime(2026, 12, 2, tzinfo=UTC)


def test_once_is_true_once_per_slot(factory: sessionmaker[Session], clock: VirtualClock) -> None:
    now = clock.now()
    slot = periodic.slot_at(now, HOUR)
    results = []
    for owner in ("a", "b", "c"):
        with session_scope(factory) as session:
            results.append(periodic.once(session, "prune", slot, now, owner))
    with session_scope(factory) as session:
        other = periodic.once(session, "digest", slot, now, "b")  # another job, same slot
        following = periodic.once(session, "prune", slot + HOUR, now + HOUR, "c")
        rows = session.execute(select(periodic.JobSlot.job, periodic.JobSlot.owner)).all()
    assert results == [True, False, False]
    assert (other, following) == (True, True)
    assert sorted(rows) == [("digest", "b"), ("prune", "a"), ("prune", "c")]


def test_a_rolled_back_run_leaves_the_slot_to_the_next(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    session = factory()
    assert periodic.once(session, "prune", now, now, "a")
    session.rollback()  # the instance died before committing its work
    session.close()
    with session_scope(factory) as session:
        assert periodic.once(session, "prune", now, now, "b")


def test_a_leased_slot_is_taken_over_when_its_lease_runs_out(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now, lease = clock.now(), timedelta(seconds=20)
    with session_scope(factory) as session:
        assert periodic.claim(session, "report", now, "a", now, lease)
        assert not periodic.claim(session, "report", now, "b", now + timedelta(seconds=5), lease)
    later = now + timedelta(seconds=21)  # a died without finishing
    with session_scope(factory) as session:
        assert periodic.claim(session, "report", now, "b", later, lease)
        assert not periodic.finish(session, "report", now, "a", later)  # a lost it
        assert periodic.finish(session, "report", now, "b", later)
        assert not periodic.claim(session, "report", now, "c", later + HOUR, lease)  # done
        assert periodic.prune(session, now + timedelta(days=31)) == 1


def test_two_instances_at_once_run_a_slot_once(pg_database: str, clock: VirtualClock) -> None:
    """A holds its transaction open after claiming; B, meanwhile, waits on A's row and then
    finds the slot done (or, had A rolled back, would take it)."""
    now = clock.now()
    slot = periodic.slot_at(now, HOUR) - HOUR * 1000  # a slot no other test uses
    with pair(pg_database) as two:

        def run(factory: sessionmaker[Session], owner: str) -> bool:
            with session_scope(factory) as session:
                assert is_postgresql(session)
                return periodic.once(session, "race", slot, now, owner)

        won = collide(two, lambda: run(two.a, "a"), lambda: run(two.b, "b"), two.engines[1])
        with session_scope(two.b) as session:
            session.execute(
                periodic.JobSlot.__table__.delete().where(periodic.JobSlot.job == "race")
            )
    assert won == (True, False)
