"""An alert ends when the latest `endsAt` any sender sent passes, whichever API process took
it, and each ended alert is resolved once however many workers look (both stores; the
concurrent claims on PostgreSQL, where workers share one store)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support import timers
from tests.support.web import alerts_in, api_config, make_token, prom_alert

from tocsin.alerts import service as alerts
from tocsin.alerts.models import AlertEvent
from tocsin.alerts.service import NewAlert
from tocsin.clock import VirtualClock
from tocsin.db import is_postgresql, session_scope
from tocsin.inbound import ends
from tocsin.inbound import service as inbound
from tocsin.pipeline import Pipeline
from tocsin.web.app import create_app
from tocsin.web.deps import Settings
from tocsin.web.routes.inbound import flush_ends

HOUR = timedelta(hours=1)


@pytest.fixture
def apis(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[list[TestClient]]:
    """Two API processes on one store: each its own memory and pending ends."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                TestClient(create_app(Settings(api_config(), factory, clock, flush_every=HOUR)))
            )
            for _ in range(2)
        ]


def flushed(client: TestClient) -> int:
    moved: int = client.portal.call(flush_ends, client.app.state.settings)  # type: ignore[union-attr,attr-defined]
    return moved


def test_the_latest_end_sent_to_any_api_process_wins_and_ends_the_alert(
    apis: list[TestClient], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    bearer = {"Authorization": "Bearer " + make_token(factory, clock, "prometheus", "ingest")}
    first = prom_alert(clock, ends_in=60)

    def resend(client: TestClient, ends_in: int) -> None:
        body = [{**prom_alert(clock, ends_in=ends_in), "startsAt": first["startsAt"]}]
        assert client.post("/api/v2/alerts", json=body, headers=bearer).status_code == 200

    one, two = apis
    assert one.post("/api/v2/alerts", json=[first], headers=bearer).status_code == 200
    for client in apis:  # each process learns the alert from a read
        resend(client, 60)
    clock.advance(timedelta(seconds=10))
    resend(two, 300)  # a second Prometheus, evaluating later, sends the later end
    resend(one, 120)  # the first one's end is earlier, and flushed last
    assert flushed(two) == 1
    assert flushed(one) == 0  # never moves the stored end back
    (alert,) = alerts_in(factory)
    latest = clock.now() + timedelta(seconds=300)
    assert alert.ends_at == latest
    pipeline = Pipeline(api_config())
    assert timers.tick(factory, pipeline, latest - timedelta(seconds=1)) == 0
    assert timers.tick(factory, pipeline, latest) == 1
    assert [a.state for a in alerts_in(factory)] == ["resolved"]


def test_ends_answered_are_written_when_the_api_stops(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    bearer = {"Authorization": "Bearer " + make_token(factory, clock, "prometheus", "ingest")}
    first = prom_alert(clock, ends_in=60)
    later = {**prom_alert(clock, ends_in=600), "startsAt": first["startsAt"]}
    settings = Settings(api_config(), factory, clock, flush_every=HOUR)
    with TestClient(create_app(settings)) as client:
        for body in (first, first, later):
            assert client.post("/api/v2/alerts", json=[body], headers=bearer).status_code == 200
        assert len(settings.repeats.ends) == 1
        (alert,) = alerts_in(factory)
        assert alert.ends_at == clock.now() + timedelta(seconds=60)
    (alert,) = alerts_in(factory)
    assert alert.ends_at == clock.now() + timedelta(seconds=600)


def open_alerts(factory: sessionmaker[Session], now: datetime, count: int) -> list[int]:
    with session_scope(factory) as session:
        return [
            alerts.fire(
                session,
                NewAlert(
                    fingerprint=f"end-{i}",
                    origin="alertmanager",
                    labels={"n": str(i)},
                    severity="WARNING",
                    title=f"alert {i}",
                    message="",
                    ends_at=now + timedelta(seconds=i),
                ),
                now,
            )[0].id
            for i in range(count)
        ]


def resolutions(factory: sessionmaker[Session]) -> dict[int, int]:
    with session_scope(factory) as session:
        rows: Any = session.execute(
            select(AlertEvent.alert_id, func.count())
            .where(AlertEvent.kind == "resolved")
            .group_by(AlertEvent.alert_id)
        ).all()
    return dict(rows)


def test_two_workers_resolve_each_ended_alert_once(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    ids = open_alerts(factory, now, 6)
    pipeline = Pipeline(api_config())
    later = now + timedelta(seconds=10)
    if is_postgresql(factory.kw["bind"]):
        # The first worker holds its claims uncommitted while the second looks: SKIP LOCKED
        # gives the second the rest, never the same rows.
        with session_scope(factory) as first:
            assert inbound.resolve_expired(first, later, pipeline, limit=4) == 4
            with session_scope(factory) as second:
                assert inbound.resolve_expired(second, later, pipeline) == 2
    else:  # one writer at a time: the second sees the first's work done
        with session_scope(factory) as first:
            assert inbound.resolve_expired(first, later, pipeline, limit=4) == 4
        with session_scope(factory) as second:
            assert inbound.resolve_expired(second, later, pipeline) == 2
    with session_scope(factory) as third:
        assert inbound.resolve_expired(third, later, pipeline) == 0
    assert resolutions(factory) == dict.fromkeys(ids, 1)


def test_an_end_moved_while_a_worker_holds_the_alert_keeps_it_open(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    now = clock.now()
    (alert_id,) = open_alerts(factory, now, 1)
    pipeline = Pipeline(api_config())
    moved_to = now + timedelta(minutes=5)
    with session_scope(factory) as sender:
        # A flush of a later end, not yet committed, holds the row (PostgreSQL) or the
        # store (SQLite): the worker skips it or waits; either way it is not resolved.
        assert ends.flush(sender, {"end-0": (alert_id, moved_to)}) == 1
        if is_postgresql(factory.kw["bind"]):
            with session_scope(factory) as worker:
                assert inbound.resolve_expired(worker, now + timedelta(seconds=1), pipeline) == 0
    with session_scope(factory) as worker:
        assert inbound.resolve_expired(worker, now + timedelta(seconds=1), pipeline) == 0
    assert [a.state for a in alerts_in(factory)] == ["firing"]
    assert alerts_in(factory)[0].ends_at == moved_to
