"""The worker claims, reads and writes checks in batches; a batch keeps every guarantee a
single evaluation had: one evaluation per slot, compare-and-set schedules, alerts per check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.shop import ValueTable

from tocsin.alerts import service as alerts
from tocsin.checks import service as checks
from tocsin.checks.models import CheckSample, CheckSchedule, Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.errors import Conflict
from tocsin.worker.loop import Worker

MINUTE = timedelta(minutes=1)
NAMES = [f"m{i:02d}" for i in range(40)]  # more than one claim batch (concurrency 2 → 16)


def many_checks(source_url: str, names: list[str] = NAMES) -> TocsinConfig:
    checks_text = "".join(
        f"""
  - name: {name}
    source: shop
    schedule: {{every: 1m}}
    query: SELECT value FROM metric WHERE name = '{name}'
    conditions:
      - {{when: ">= 10", severity: HIGH}}
"""
        for name in names
    )
    text = f"""
worker: {{concurrency: 2}}
sources:
  shop: {{type: sql, url: "{source_url}"}}
channels:
  console: {{type: console}}
checks:{checks_text}"""
    config, _ = parse(text, "test.yaml", env={})
    return config


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    for name in NAMES:
        table.set(name, 1)
    return table


def worker_for(
    config: TocsinConfig,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    worker_id: str = "w1",
    *,
    threads: bool = False,
) -> Worker:
    worker = Worker(
        config, factory, clock, worker_id=worker_id, console_write=[].append, threads=threads
    )
    worker.start()
    return worker


def drain(worker: Worker) -> int:
    """Run due checks until none is left; return how many ran."""
    total = 0
    while done := worker.run_due_checks():
        total += done
    return total


@pytest.mark.parametrize("threads", [False, True])
def test_every_check_of_every_batch_is_recorded_once_with_its_own_sample(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable, threads: bool
) -> None:
    shop.set("m07", 7)
    worker = worker_for(many_checks(shop.url), factory, clock, threads=threads)
    assert drain(worker) == len(NAMES)
    clock.advance(MINUTE)
    assert drain(worker) == len(NAMES)
    worker.stop()
    with session_scope(factory) as s:
        counted = select(Evaluation.check_name, func.count()).group_by(Evaluation.check_name)
        per_check = {name: count for name, count in s.execute(counted)}
        samples = s.execute(
            select(CheckSample.check_name, Evaluation.check_name, CheckSample.value).join(
                Evaluation, CheckSample.evaluation_id == Evaluation.id
            )
        ).all()
        schedules = checks.schedules(s)
    assert per_check == dict.fromkeys(NAMES, 2)
    assert len(samples) == 2 * len(NAMES)
    assert all(own == linked for own, linked, _ in samples)  # ids matched to the right check
    assert {value for name, _, value in samples if name == "m07"} == {7.0}
    assert {row.next_run_at for row in schedules} == {clock.now() + MINUTE}
    assert {row.lease_owner for row in schedules} == {None}


def test_a_batch_mixing_firing_and_quiet_checks_changes_only_the_firing_ones(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    worker = worker_for(many_checks(shop.url), factory, clock)
    shop.set("m03", 12)
    shop.set("m30", 15)
    drain(worker)
    clock.advance(MINUTE)
    shop.set("m03", 1)  # clears; m30 stays firing
    drain(worker)
    with session_scope(factory) as s:
        states = {(a.check_name, a.state) for a in alerts.list_(s)}
    assert states == {("m03", "resolved"), ("m30", "firing")}


def test_a_slot_recorded_elsewhere_costs_the_rest_of_its_batch_nothing(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    worker = worker_for(many_checks(shop.url, NAMES[:5]), factory, clock)
    with session_scope(factory) as s:  # another worker already stored m02's slot
        s.execute(
            insert(Evaluation).values(
                check_name="m02",
                slot_at=clock.now(),
                started_at=clock.now(),
                finished_at=clock.now(),
                duration_ms=0,
                status="ok",
                worker_id="other",
                results=[],
            )
        )
    assert worker.run_due_checks() == 5
    with session_scope(factory) as s:
        rows = s.execute(select(Evaluation.check_name, Evaluation.worker_id)).all()
        m02 = s.get(CheckSchedule, "m02")
    assert sorted(rows) == [
        ("m00", "w1"),
        ("m01", "w1"),
        ("m02", "other"),
        ("m03", "w1"),
        ("m04", "w1"),
    ]
    # The late slot was rolled back whole: its schedule did not move.
    assert m02 is not None
    assert m02.next_run_at == clock.now()


def test_two_workers_claim_disjoint_slots_until_a_lease_expires(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    worker_for(many_checks(shop.url), factory, clock)
    lease = timedelta(seconds=30)
    with session_scope(factory) as s:
        first = checks.claim_due(s, "a", clock.now(), lease, limit=25)
    with session_scope(factory) as s:
        second = checks.claim_due(s, "b", clock.now(), lease, limit=25)
    with session_scope(factory) as s:
        none_left = checks.claim_due(s, "c", clock.now(), lease)
    names_a = {c.check_name for c in first}
    names_b = {c.check_name for c in second}
    assert (len(names_a), len(names_b), none_left) == (25, 15, [])
    assert not names_a & names_b
    clock.advance(lease)
    with session_scope(factory) as s:
        taken_over = checks.claim_due(s, "c", clock.now(), lease)
    assert {c.check_name for c in taken_over} == set(NAMES)


def test_a_batch_with_two_slots_of_one_check_is_refused_and_writes_nothing(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    record = checks.Record("x", clock.now(), clock.now(), clock.now(), "ok", [])
    later = checks.Record("x", clock.now() + MINUTE, clock.now(), clock.now(), "ok", [])
    with (
        pytest.raises(ValueError, match="one evaluation per check"),
        session_scope(factory) as s,
    ):
        checks.record(s, [record, later])
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Evaluation)) == 0


def test_completing_a_slot_whose_lease_was_lost_is_a_conflict(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = many_checks(shop.url, ["m00", "m01"])
    worker_for(config, factory, clock)
    with session_scope(factory) as s:
        claims = checks.claim_due(s, "a", clock.now(), MINUTE)
    with session_scope(factory) as s:
        checks.release(s, claims[1])  # as a worker stopping would
    done = [checks.completion(c, config.check(c.check_name), clock.now(), 0) for c in claims]
    with pytest.raises(Conflict, match="lost the lease"), session_scope(factory) as s:
        checks.complete(s, done, clock.now())
    with session_scope(factory) as s:  # rolled back: neither schedule moved
        assert {row.next_run_at for row in checks.schedules(s)} == {clock.now()}
