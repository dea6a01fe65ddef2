"""`tocsin.claims`: the one way due rows are claimed (SKIP LOCKED, then a compare-and-set
with its row count checked), on both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import claims
from tocsin.checks.models import CheckSchedule
from tocsin.clock import VirtualClock
from tocsin.db import is_postgresql, session_scope


def _rows(factory: sessionmaker[Session], clock: VirtualClock, n: int = 3) -> None:
    with session_scope(factory) as session:
        for i in range(n):
            session.add(
                CheckSchedule(
                    check_name=f"c{i}",
                    schedule_key="every 1m",
                    next_run_at=clock.now() - timedelta(seconds=i),
                    consecutive_errors=0,
                )
            )


def _due(session: Session, clock: VirtualClock) -> list[CheckSchedule]:
    query = select(CheckSchedule).where(CheckSchedule.next_run_at <= clock.now())
    return list(claims.due(session, query.order_by(CheckSchedule.check_name)))


def test_take_moves_a_row_once(factory: sessionmaker[Session], clock: VirtualClock) -> None:
    _rows(factory, clock, 1)
    with session_scope(factory) as session:
        (row,) = _due(session, clock)
        later = clock.now() + timedelta(minutes=1)

        def take() -> bool:
            return claims.take(
                session,
                CheckSchedule,
                CheckSchedule.check_name == row.check_name,
                expect=[CheckSchedule.next_run_at == row.next_run_at],
                values={"next_run_at": later},
            )

        assert take() is True
        assert take() is False  # the row is no longer in the state it was read in
    with session_scope(factory) as session:
        assert session.get(CheckSchedule, "c0").next_run_at == later  # type: ignore[union-attr]


def test_take_many_returns_only_the_rows_it_moved(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    _rows(factory, clock, 3)
    free = claims.lease_free(CheckSchedule.lease_until, clock.now())
    until = clock.now() + timedelta(seconds=20)
    with session_scope(factory) as session:
        first = claims.take_many(
            session,
            CheckSchedule,
            CheckSchedule.check_name,
            ["c0", "c1"],
            expect=[free],
            values={"lease_owner": "a", "lease_until": until},
        )
        second = claims.take_many(
            session,
            CheckSchedule,
            CheckSchedule.check_name,
            ["c0", "c1", "c2"],
            expect=[free],
            values={"lease_owner": "b", "lease_until": until},
        )
    assert first == {"c0", "c1"}
    assert second == {"c2"}
    # Once the lease has run out, the row is free again (the holder died).
    with session_scope(factory) as session:
        taken = claims.take_many(
            session,
            CheckSchedule,
            CheckSchedule.check_name,
            ["c0"],
            expect=[claims.lease_free(CheckSchedule.lease_until, until)],
            values={"lease_owner": "c"},
        )
        held = claims.held_by(CheckSchedule.lease_owner, CheckSchedule.lease_until, "b", until)
        still = session.scalars(select(CheckSchedule.check_name).where(held)).all()
    assert taken == {"c0"}
    assert still == []  # b's lease is over at `until`


def test_a_locked_row_is_skipped_not_waited_for(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    """Two transactions at once: on PostgreSQL the second reads only what the first does
    not hold; on SQLite (one writer) the second reads after the first commits and finds
    the rows no longer due."""
    _rows(factory, clock, 3)
    first = factory()
    try:
        held = _due(first, clock)[:2] if is_postgresql(first) else []
        if held:
            # Lock only two rows in the first transaction.
            names = [r.check_name for r in held]
            first.rollback()
            query = select(CheckSchedule).where(CheckSchedule.check_name.in_(names))
            assert len(claims.due(first, query)) == 2
            with session_scope(factory) as second:
                seen = [r.check_name for r in _due(second, clock)]
            assert seen == ["c2"]
        else:
            for row in _due(first, clock):
                row.next_run_at = clock.now() + timedelta(minutes=1)
            first.commit()
            with session_scope(factory) as second:
                assert _due(second, clock) == []
    finally:
        first.close()
