"""Failover on the virtual clock, on both stores: leases of 15 s renewed by their holder,
taken over once a dead holder's run out, handed back at once by a graceful stop; instances
listed with what each holds; an instance older than the store's schema claims nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker
from tests.support.noise import Desk, noise_config

from tocsin import store as versions
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.instances import service as instances
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

LEASE = timedelta(seconds=15)


def two_workers(
    factory: sessionmaker[Session], clock: VirtualClock
) -> tuple[Worker, Worker, list[str], list[str]]:
    config = noise_config()
    assert config.worker.lease == LEASE  # the default, not tuned for the test
    lines_a: list[str] = []
    lines_b: list[str] = []
    a = Worker(config, factory, clock, worker_id="a", console_write=lines_a.append, threads=False)
    b = Worker(config, factory, clock, worker_id="b", console_write=lines_b.append, threads=False)
    a.start()
    b.start()
    desk = Desk(factory, clock, config)
    for i in range(3):
        desk.fire(f"down{i}", {"service": "api"})
    return a, b, lines_a, lines_b


def sending(factory: sessionmaker[Session]) -> dict[str | None, int]:
    with session_scope(factory) as session:
        owners = session.scalars(
            select(Notification.lease_owner).where(Notification.state == "sending")
        ).all()
    return {owner: owners.count(owner) for owner in set(owners)}


def test_a_dead_senders_notifications_are_taken_over_after_its_lease(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    a, b, _, lines_b = two_workers(factory, clock)
    assert len(a.courier.claim(100)) == 6  # a claims, then dies before sending
    assert sending(factory) == {"a": 6}
    clock.advance(LEASE - timedelta(seconds=1))
    assert b.send_due_notifications() == 0  # still a's
    clock.advance(timedelta(seconds=1))
    assert b.send_due_notifications() == 6  # a's lease ran out: b sends them
    assert len(lines_b) == 6
    assert b.courier.taken_over == 6
    b.beat(force=True)
    with session_scope(factory) as session:
        listed = {i.id: i for i in instances.listing(session, clock.now(), LEASE)}
    assert listed["b"].taken_over == 6
    assert listed["b"].alive


def test_a_living_holder_renews_its_leases(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    a, b, _, _ = two_workers(factory, clock)
    assert len(a.courier.claim(100)) == 6  # a slow channel: a is still sending
    for _ in range(4):  # a minute, renewed every 10 s
        clock.advance(timedelta(seconds=10))
        a.keeper.round()
        assert b.send_due_notifications() == 0
    with session_scope(factory) as session:
        (a_row,) = [i for i in instances.listing(session, clock.now(), LEASE) if i.id == "a"]
    assert a_row.notifications_held == 6


def test_a_graceful_stop_hands_work_back_at_once(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    a, b, _, lines_b = two_workers(factory, clock)
    assert len(a.courier.claim(100)) == 6
    a.stop()
    assert sending(factory) == {}
    assert b.send_due_notifications() == 6  # at the same instant: no lease to wait for
    assert len(lines_b) == 6
    with session_scope(factory) as session:
        listed = {i.id: i for i in instances.listing(session, clock.now(), LEASE)}
    assert not listed["a"].alive
    assert listed["a"].status == "stopped"


def test_an_instance_older_than_the_store_claims_nothing(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    a, _, lines_a, _ = two_workers(factory, clock)
    newer = f"{int(versions.head()) + 1:04d}"
    with session_scope(factory) as session:
        session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": newer})
    try:
        a.keeper.round()
        assert not a.keeper.working
        assert f"the store is at revision {newer}" in a.keeper.status
        assert f"has migration {newer}" in a.keeper.status
        assert a.tick() == 0
        assert lines_a == []
        with session_scope(factory) as session:
            (row,) = [i for i in instances.listing(session, clock.now(), LEASE) if i.id == "a"]
        assert row.status == a.keeper.status
        assert row.schema == versions.head()
    finally:
        with session_scope(factory) as session:
            session.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": versions.head()}
            )
    a.keeper.round()
    assert a.keeper.working
    assert a.tick() > 0
    assert len(lines_a) == 6


def test_a_store_behind_the_code_is_named_with_the_command() -> None:
    assert versions.verdict(versions.head()) is None
    behind = versions.verdict("0001")
    assert behind is not None
    assert "Run `tocsin db upgrade` first" in behind
    assert f"needs {versions.head()}" in behind


def test_leases_of_checks_are_renewed_too(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    from tocsin.checks.models import CheckSchedule
    from tocsin.worker.leases import renew_checks

    with session_scope(factory) as session:
        session.add(
            CheckSchedule(
                check_name="c",
                schedule_key="k",
                next_run_at=clock.now(),
                lease_owner="a",
                lease_until=clock.now() + LEASE,
                consecutive_errors=0,
            )
        )
    clock.advance(timedelta(seconds=10))
    with session_scope(factory) as session:
        assert renew_checks(session, "a", clock.now(), LEASE) == 1
        assert renew_checks(session, "b", clock.now(), LEASE) == 0
    clock.advance(LEASE + timedelta(seconds=1))  # a died: nothing renews it now
    with session_scope(factory) as session:
        assert renew_checks(session, "a", clock.now(), LEASE) == 0
        session.execute(update(CheckSchedule).values(lease_owner=None))


def test_tocsin_instances_lists_who_is_alive_and_what_each_holds(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from typer.testing import CliRunner

    from tocsin.cli import app
    from tocsin.cli import instances as instances_cli

    monkeypatch.setattr(instances_cli, "clock", clock)

    a, _, _, _ = two_workers(factory, clock)
    assert len(a.courier.claim(100)) == 6
    config = tmp_path / "tocsin.yaml"
    config.write_text(f'store: {{url: "{store_url}"}}\nchannels: {{console: {{type: console}}}}\n')
    result = CliRunner().invoke(app, ["instances", "-c", str(config), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["notifications_held"] == 6
    assert rows["b"]["notifications_held"] == 0
    assert rows["a"]["status"] == "working"
    assert rows["a"]["schema"] == versions.head()
