"""Runs of runbook steps: asked for, claimed by the worker step, run against a real storefront
on PostgreSQL, ended on the incident's timeline; on both stores."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.runbooks import NOW, declare, runbook_config, shop_pg, step_events

from tocsin import actions
from tocsin.actions.runbooks import Selection
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.errors import Conflict
from tocsin.runbooks import runs
from tocsin.runbooks.service import catalog

__all__ = ["shop_pg"]


@pytest.fixture
def at_now(clock: VirtualClock) -> VirtualClock:
    return VirtualClock(NOW)


def ask(factory, config, clock, incident, runbook="payment-processing-failure", **how):  # type: ignore[no-untyped-def]
    given = how.pop("given", {})
    book = catalog(config.runbooks.path).get(runbook)
    with session_scope(factory) as s:
        rows = actions.runbooks.request(
            s,
            config,
            book,
            Selection(**how),
            incident_id=incident,
            given=given,
            by="ana",
            now=clock.now(),
            environ={},
        )
        return [(r.id, r.state, r.error) for r in rows]


def test_a_verification_step_runs_on_the_storefront_and_lands_on_the_timeline(
    factory: sessionmaker[Session], shop_pg: str, at_now: VirtualClock
) -> None:
    config = runbook_config(shop_pg)
    incident = declare(factory, config, at_now)
    asked = ask(factory, config, at_now, incident, verification=True)
    assert [state for _, state, _ in asked] == ["queued", "queued"]
    ended = actions.runbooks.run_due(factory, config, at_now, "w1")
    assert sorted(r.id for r in ended) == sorted(i for i, _, _ in asked)
    with session_scope(factory) as s:
        first = runs.get(s, asked[0][0])
        assert first.state in ("succeeded", "failed")
        assert first.row_count == 1
        assert "orders_last_5_min" in (first.output or "")
        assert first.output_sha256 == hashlib.sha256((first.output or "").encode()).hexdigest()
        assert first.tests
        assert first.tests[0]["test"] == "orders_last_5_min > 0"
        assert first.duration_ms is not None
        assert first.started_at is not None
    events = step_events(factory, incident)
    assert len(events) == 2
    assert events[0].data["run_id"] == asked[0][0]
    assert "orders_last_5_min" in (events[0].note or "")
    assert events[0].data["output_sha256"] == first.output_sha256


def test_step_one_runs_the_postgresql_block_and_refuses_the_shell(
    factory: sessionmaker[Session], shop_pg: str, at_now: VirtualClock
) -> None:
    config = runbook_config(shop_pg)
    incident = declare(factory, config, at_now)
    asked = ask(factory, config, at_now, incident, step=1, given={"scenario_id": "42"})
    # The sqlite block of step 1 is skipped on a PostgreSQL source; the sh block is refused.
    assert [state for _, state, _ in asked] == ["queued", "queued", "refused"]
    assert "shell steps are off" in (asked[2][2] or "")
    actions.runbooks.run_due(factory, config, at_now, "w1")
    with session_scope(factory) as s:
        verify = runs.get(s, asked[0][0])
        assert verify.state == "succeeded", verify.error
        assert "minutes_since_last" in (verify.output or "")
        assert runs.get(s, asked[2][0]).state == "refused"
    notes = [e.note or "" for e in step_events(factory, incident)]
    assert any("refused: shell steps are off" in n for n in notes)


def test_an_unknown_source_is_refused_and_says_so(
    factory: sessionmaker[Session], shop_pg: str, at_now: VirtualClock
) -> None:
    config = runbook_config(shop_pg.replace("/tocsin_rbshop", "/nowhere"))
    config.sources.pop("shop")
    incident = declare(factory, config, at_now)
    asked = ask(factory, config, at_now, incident, verification=True)
    assert {state for _, state, _ in asked} == {"refused"}
    assert "unknown source 'shop'" in (asked[0][2] or "")


def test_a_write_waits_for_the_commanders_approval(
    factory: sessionmaker[Session], shop_pg: str, at_now: VirtualClock
) -> None:
    config = runbook_config(shop_pg, "  writable_sources: [shop]")
    incident = declare(factory, config, at_now, commander="bo")
    book = catalog(config.runbooks.path).get("payment-processing-failure")
    write_steps = [
        s.number for s in book.steps if any(b.mode == "write" and b.kind == "sql" for b in s.blocks)
    ]
    assert write_steps, "the payment runbook has an SQL write step"
    asked = ask(factory, config, at_now, incident, step=write_steps[0], given={"order_id": "12"})
    actions.runbooks.run_due(factory, config, at_now, "w1")  # the reads run, the write waits
    with session_scope(factory) as s:
        rows = [runs.get(s, i) for i, _, _ in asked]
        writes = [r.id for r in rows if r.mode == "write"]
        assert [r.state for r in rows if r.mode == "write"] == ["queued"]
        assert all(r.state == "succeeded" for r in rows if r.mode == "read")
    with session_scope(factory) as s, pytest.raises(Conflict, match=r"commander \(bo\)"):
        actions.runbooks.approve(s, writes[0], "ana", at_now.now())
    with session_scope(factory) as s:
        actions.runbooks.approve(s, writes[0], "bo", at_now.now())
    actions.runbooks.run_due(factory, config, at_now, "w1")
    with session_scope(factory) as s:
        row = runs.get(s, writes[0])
        assert row.approved_by == "bo"
        assert row.approved_at == at_now.now()
        assert row.state == "succeeded", row.error
