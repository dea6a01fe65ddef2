"""Action items that prove themselves: a check on a real PostgreSQL storefront runs every
`verify_every` until its test holds, then closes the item (done by "check") with the result
on the timeline; two workers on one store run each due check once and close it once; bad
checks are refused naming the field, with nothing written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import CONFIG
from tests.support.pg import pg_schema

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import is_postgresql, session_scope
from tocsin.errors import Invalid
from tocsin.incidents import followups, verify
from tocsin.incidents.models import IncidentAction, IncidentEvent
from tocsin.incidents.service import NewIncident
from tocsin.incidents.verify import Verify
from tocsin.pipeline import Pipeline

STUCK = Verify("shop", "stuck == 0", "SELECT count(*) AS stuck FROM orders WHERE status = 'stuck'")


@pytest.fixture
def shop() -> Iterator[str]:
    with pg_schema("shop") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE orders (id serial PRIMARY KEY, status text)"))
            conn.execute(text("INSERT INTO orders (status) VALUES ('stuck'), ('stuck'), ('paid')"))
        engine.dispose()
        yield url


def config_for(url: str) -> TocsinConfig:
    extra = f'sources:\n  shop: {{type: sql, url: "{url}"}}\n'
    extra += "  site: {type: http, url: 'http://127.0.0.1:9/health'}\n"
    config, _ = parse(CONFIG + extra, "tocsin.yaml", env={})
    return config


def action_with_check(
    factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock
) -> int:
    with session_scope(factory) as s:
        new = NewIncident(title="Orders stuck", severity="SEV-2", commander="ana")
        incident = actions.incidents.declare(s, pipeline, new, "ana", clock.now())
        row = followups.add_action(
            s, pipeline, incident.id, "Unstick the queue", "bo",
            clock.now() + timedelta(days=2), "ana", clock.now(), STUCK,
        )  # fmt: skip
        return row.id


def test_a_check_closes_its_action_item_once_its_test_holds(
    factory: sessionmaker[Session], clock: VirtualClock, shop: str
) -> None:
    config = config_for(shop)
    pipeline = Pipeline(config)
    action_id = action_with_check(factory, pipeline, clock)
    assert verify.run_due(factory, config, clock) == 1
    with session_scope(factory) as s:
        row = s.get(IncidentAction, action_id)
        assert row is not None
        assert row.done_at is None
        assert row.verify_result == "stuck == 0 does not hold yet (stuck = 2)"
    assert verify.run_due(factory, config, clock) == 0  # not due again for verify_every
    engine = create_engine(shop)
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'paid'"))
    engine.dispose()
    clock.advance(config.incidents.verify_every)
    assert verify.run_due(factory, config, clock) == 1
    with session_scope(factory) as s:
        row = s.get(IncidentAction, action_id)
        assert row is not None
        assert (row.done_by, row.done_at, row.verify_at) == ("check", clock.now(), None)
        notes = s.scalars(select(IncidentEvent.note).where(IncidentEvent.actor == "check")).all()
    assert notes == [f"action item #{action_id} verified by its check and closed: "
                     "stuck == 0 holds (stuck = 0)"]  # fmt: skip
    clock.advance(config.incidents.verify_every)
    assert verify.run_due(factory, config, clock) == 0  # closed: never again


def test_two_workers_run_each_due_check_once_and_close_it_once(
    factory: sessionmaker[Session], clock: VirtualClock, shop: str
) -> None:
    with session_scope(factory) as s:
        if not is_postgresql(s):
            pytest.skip("one writer on SQLite: the claim is the store's lock")
    engine = create_engine(shop)
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'paid'"))
    engine.dispose()
    config = config_for(shop)
    pipeline = Pipeline(config)
    ids = [action_with_check(factory, pipeline, clock) for _ in range(12)]
    ran = [0, 0]
    start = threading.Barrier(2)

    def work(k: int) -> None:
        start.wait()
        while (n := verify.run_due(factory, config, clock, limit=3)) > 0:
            ran[k] += n

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(ran) == len(ids)
    with session_scope(factory) as s:
        done = s.scalar(
            select(func.count())
            .select_from(IncidentAction)
            .where(IncidentAction.done_by == "check")
        )
        closed = s.scalar(
            select(func.count()).select_from(IncidentEvent).where(IncidentEvent.actor == "check")
        )
    assert (done, closed) == (len(ids), len(ids))


def test_bad_checks_are_refused_naming_the_field_and_nothing_is_written(
    factory: sessionmaker[Session], clock: VirtualClock, shop: str
) -> None:
    pipeline = Pipeline(config_for(shop))
    with session_scope(factory) as s:
        new = NewIncident(title="Orders stuck", severity="SEV-2", commander="ana")
        incident_id = actions.incidents.declare(s, pipeline, new, "ana", clock.now()).id
    bad = {
        Verify("nowhere", "x == 0", "SELECT 1"): "verify.source: 'nowhere' is not a source",
        Verify("shop", "x == 0"): "verify.query: an SQL source needs a query",
        Verify("site", "status == 200", "SELECT 1"): "verify.query: an HTTP source takes no",
        Verify("shop", "stuck ==", "SELECT 1 AS stuck"): "verify.test:",
    }
    for check, message in bad.items():
        with session_scope(factory) as s, pytest.raises(Invalid, match=message):
            followups.add_action(
                s, pipeline, incident_id, "x", "bo", clock.now(), "ana", clock.now(), check
            )
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(IncidentAction)) == 0


def test_a_check_that_cannot_run_says_why_and_stays_open(
    factory: sessionmaker[Session], clock: VirtualClock, shop: str
) -> None:
    config = config_for(shop)
    pipeline = Pipeline(config)
    action_id = action_with_check(factory, pipeline, clock)
    engine = create_engine(shop)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE orders"))
    engine.dispose()
    assert verify.run_due(factory, config, clock) == 1
    with session_scope(factory) as s:
        row = s.get(IncidentAction, action_id)
        assert row is not None
        assert row.done_at is None
        assert (row.verify_result or "").startswith("could not run:")
