"""Re-sent alerts answered from memory (`tocsin.inbound.repeats`) and kept true to the store,
whoever changes it: the API, the worker, another connection, the log's pruning."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker
from tests.support import timers
from tests.support.store import dump, truncate
from tests.support.web import alerts_in, api_config, make_token, prom_alert

from tocsin.alerts import service as alerts
from tocsin.alerts.models import AlertChange
from tocsin.clock import VirtualClock
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.inbound import repeats
from tocsin.inbound.repeats import Repeats, Seen
from tocsin.inbound.service import OpenAlert, change_seq
from tocsin.pipeline import Pipeline
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


@pytest.fixture
def store_url(sqlite_template: Path, tmp_path: Path) -> str:
    """This module's stores are SQLite's, where the memory is on; PostgreSQL has a test of
    its own below."""
    path = tmp_path / "store.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


class Statements:
    """Counts the statements the app's engine runs (the memory's own reads are not on it)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def post(client: TestClient, headers: dict[str, str], alerts: list[dict[str, Any]]) -> None:
    answer = client.post("/api/v2/alerts", json=alerts, headers=headers)
    assert answer.status_code == 200, answer.text


def sql_path(engine: Engine) -> str:
    assert engine.url.database is not None
    return engine.url.database


def test_resends_after_the_first_touch_no_store_connection(
    client: TestClient,
    settings: Settings,
    engine: Engine,
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    batch = [prom_alert(clock, instance=str(i)) for i in range(5)]
    post(client, ingest, batch)  # new: written, not read back
    assert len(settings.repeats) == 0
    post(client, ingest, batch)  # the first re-send reads them, and remembers
    assert len(settings.repeats) == 5
    statements = Statements(engine)
    for _ in range(3):
        post(client, ingest, batch)
    assert statements.count == 0
    # A write that moves their end: what it committed is remembered, with no read after.
    clock.advance(timedelta(minutes=6))
    for alert in batch:
        alert["endsAt"] = (clock.now() + timedelta(minutes=4)).isoformat()
    post(client, ingest, batch)
    statements.count = 0
    post(client, ingest, batch)
    assert statements.count == 0
    # A re-send that changes something still goes to the store.
    batch[0]["annotations"]["summary"] = "something else"
    post(client, ingest, batch)
    assert statements.count > 0
    assert alerts_in(settings.factory)[0].title == "something else"


def test_a_resolution_by_hand_is_seen_and_the_resend_fires_again(
    client: TestClient,
    settings: Settings,
    ingest: dict[str, str],
    admin: dict[str, str],
    clock: VirtualClock,
) -> None:
    post(client, ingest, [prom_alert(clock)])
    (first,) = alerts_in(settings.factory)
    answer = client.post(f"/api/v1/alerts/{first.id}/resolve", headers=admin)
    assert answer.status_code == 200, answer.text
    post(client, ingest, [prom_alert(clock)])
    found = alerts_in(settings.factory)
    assert [(a.id, a.state) for a in found] == [(first.id, "resolved"), (found[1].id, "firing")]
    assert found[1].previous_id == first.id


def test_changes_made_by_another_connection_are_seen(
    client: TestClient,
    settings: Settings,
    engine: Engine,
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    """Another process (here a plain sqlite3 connection, as the CLI or a second `tocsin
    run` would be) changes an alert the memory holds: the triggers log it."""
    batch = [prom_alert(clock, instance="a"), prom_alert(clock, instance="b")]
    post(client, ingest, batch)
    post(client, ingest, batch)
    assert len(settings.repeats) == 2
    with sqlite3.connect(sql_path(engine)) as other:
        other.execute("UPDATE alert SET severity = 'LOW' WHERE labels LIKE '%\"a\"%'")
    post(client, ingest, batch)  # the re-send says CRITICAL again: written as a change
    severities = sorted(a.severity for a in alerts_in(settings.factory))
    assert severities == ["CRITICAL", "CRITICAL"]
    with sqlite3.connect(sql_path(engine)) as other:
        other.execute("UPDATE alert SET state = 'resolved'")
    post(client, ingest, batch)
    states = [a.state for a in alerts_in(settings.factory)]
    assert states == ["resolved", "resolved", "firing", "firing"]


def test_writes_that_change_nothing_compared_are_not_logged(
    client: TestClient,
    settings: Settings,
    engine: Engine,
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    post(client, ingest, [prom_alert(clock)])
    before = count_log(engine)
    (alert,) = alerts_in(settings.factory)
    with session_scope(settings.factory) as session:  # an acknowledgement: state, not closed
        alerts.acknowledge(session, alert.id, "ops", clock.now(), "mine")
    with sqlite3.connect(sql_path(engine)) as other:
        other.execute("UPDATE alert SET updated_at = updated_at, value = 3")
    assert count_log(engine) == before
    with sqlite3.connect(sql_path(engine)) as other:
        other.execute("UPDATE alert SET ends_at = NULL")
        other.execute("UPDATE alert SET details = '{}'")
        other.execute("DELETE FROM alert")
    assert count_log(engine) == before + 3


def count_log(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(AlertChange.seq)).all())


def test_an_alert_the_worker_resolved_fires_again_on_its_next_resend(
    client: TestClient, settings: Settings, ingest: dict[str, str], clock: VirtualClock
) -> None:
    post(client, ingest, [prom_alert(clock, ends_in=60)])
    clock.advance(timedelta(minutes=10))  # past endsAt and the slack: the worker resolves it
    assert timers.tick(settings.factory, Pipeline(settings.config), clock.now()) == 1
    post(client, ingest, [prom_alert(clock, ends_in=60)])
    assert [a.state for a in alerts_in(settings.factory)] == ["resolved", "firing"]


def test_a_log_pruned_past_the_memory_empties_it(
    client: TestClient,
    settings: Settings,
    engine: Engine,
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    batch = [prom_alert(clock, instance=str(i)) for i in range(4)]
    post(client, ingest, batch)
    post(client, ingest, batch)
    with sqlite3.connect(sql_path(engine)) as other:
        for _ in range(3):  # rows the memory has not read yet, then all but the newest pruned
            other.execute("UPDATE alert SET ends_at = NULL WHERE ends_at IS NOT NULL")
            other.execute("UPDATE alert SET ends_at = '2030-01-01 00:00:00.000000'")
    with session_scope(settings.factory) as session:
        assert repeats.prune(session, keep=1) > 0
    assert len(settings.repeats) == 4
    statements = Statements(engine)
    post(client, ingest, batch)  # the hole is seen: the memory starts over from the store
    assert statements.count > 0
    assert len(settings.repeats) == 4  # relearnt from what the store now says
    statements.count = 0
    post(client, ingest, batch)
    assert statements.count == 0


def test_a_snapshot_older_than_a_change_is_not_learnt(
    settings: Settings, client: TestClient, ingest: dict[str, str], clock: VirtualClock
) -> None:
    post(client, ingest, [prom_alert(clock)])
    (alert,) = alerts_in(settings.factory)
    memory = Repeats(settings.factory.kw["bind"])
    with session_scope(settings.factory) as session:
        seen = Seen(change_seq(session), {})  # the log's position before the change below
    with session_scope(settings.factory) as session:
        session.execute(text("UPDATE alert SET title = 'changed'"))
    stale = OpenAlert(alert.id, "firing", "CRITICAL", "old", "", {}, None)
    memory.learn(Seen(seen.seq, {alert.fingerprint: stale}))
    assert len(memory) == 0
    memory.learn(Seen(seen.seq + 1, {alert.fingerprint: stale}))  # as of the change: kept
    assert len(memory) == 1
    memory.close()


def test_the_memory_is_bounded(
    client: TestClient,
    settings: Settings,
    ingest: dict[str, str],
    clock: VirtualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(repeats, "CAPACITY", 3)
    fleet = [prom_alert(clock, instance=str(i)) for i in range(5)]
    post(client, ingest, fleet)
    post(client, ingest, fleet)
    assert len(settings.repeats) == 3
    post(client, ingest, [prom_alert(clock, instance="0")])  # forgotten: read, relearnt
    assert len(settings.repeats) == 3


def test_postgresql_asks_the_store(pg_database: str, clock: VirtualClock) -> None:
    engine = make_engine(pg_database)
    truncate(engine)
    factory = make_sessionmaker(engine)
    settings = Settings(api_config(), factory, clock)
    assert not settings.repeats.enabled
    ingest = {"Authorization": "Bearer " + make_token(factory, clock, "prometheus", "ingest")}
    with TestClient(create_app(settings)) as client:
        post(client, ingest, [prom_alert(clock)])
        post(client, ingest, [prom_alert(clock)])
    assert len(settings.repeats) == 0
    assert [a.state for a in alerts_in(factory)] == ["firing"]
    engine.dispose()


@pytest.fixture
def twin(
    sqlite_template: Path, tmp_path: Path, clock: VirtualClock
) -> Iterator[tuple[TestClient, sessionmaker[Session], Engine]]:
    """A second app on a second store, with the memory off."""
    path = tmp_path / "twin.db"
    path.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    factory = make_sessionmaker(engine)
    settings = Settings(api_config(), factory, clock)
    settings.repeats = Repeats(make_engine("sqlite://"))  # in memory: off
    assert not settings.repeats.enabled
    with TestClient(create_app(settings)) as client:
        yield client, factory, engine
    engine.dispose()


def test_the_memory_changes_no_outcome(
    client: TestClient,
    settings: Settings,
    engine: Engine,
    twin: tuple[TestClient, sessionmaker[Session], Engine],
    clock: VirtualClock,
) -> None:
    """The same story told to an app with the memory and to one without: the same rows."""
    other, other_factory, other_engine = twin
    apps = [
        (client, settings.factory, engine, make_token(settings.factory, clock, "p", "ingest")),
        (other, other_factory, other_engine, make_token(other_factory, clock, "p", "ingest")),
    ]
    admin = [make_token(f, clock, "ops", "admin") for _, f, _, _ in apps]
    dumps = []
    start = clock.now()
    for (app, factory, store, token), admin_token in zip(apps, admin, strict=True):
        clock.set(start)
        headers = {"Authorization": f"Bearer {token}"}
        story(app, factory, store, headers, {"Authorization": f"Bearer {admin_token}"}, clock)
        rows = dump(store)
        for table in ("api_token", "heartbeat"):  # random keys, not the story's
            rows.pop(table)
        dumps.append(rows)
    assert dumps[0] == dumps[1]
    # The story did what it says: 4 alerts and one fired again after its resolution by
    # hand; every alert ends resolved (one stopped being sent, the others at the end).
    assert len(dumps[0]["alert"]) == 5
    assert all('"state": "resolved"' in row for row in dumps[0]["alert"])
    kinds = [json.loads(row)["kind"] for row in dumps[0]["alert_event"]]
    assert kinds.count("severity_changed") == 4  # the open four, set back by their re-sends


def story(
    app: TestClient,
    factory: sessionmaker[Session],
    store: Engine,
    ingest: dict[str, str],
    admin: dict[str, str],
    clock: VirtualClock,
) -> None:
    fleet = [prom_alert(clock, instance=str(i), ends_in=240) for i in range(4)]
    pipeline = Pipeline(api_config())
    for step in range(12):
        clock.advance(timedelta(seconds=50))
        for alert in fleet:  # Prometheus moves endsAt every cycle
            alert["endsAt"] = (clock.now() + timedelta(seconds=240)).isoformat()
        if step == 3:
            fleet[1]["annotations"]["summary"] = "now worse"
        if step == 5:
            (first, *_) = alerts_in(factory)
            app.post(f"/api/v1/alerts/{first.id}/resolve", headers=admin)
        if step == 7:
            with sqlite3.connect(sql_path(store)) as conn:
                conn.execute("UPDATE alert SET severity = 'LOW' WHERE state != 'resolved'")
        if step == 9:
            fleet.pop()  # stops being sent: resolves when its end and the slack pass
        post(app, ingest, fleet)
        post(app, ingest, fleet[:2])
        timers.tick(factory, pipeline, clock.now())
    clock.advance(timedelta(minutes=15))
    timers.tick(factory, pipeline, clock.now())
