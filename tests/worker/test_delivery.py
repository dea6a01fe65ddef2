"""The outbox through real channels: retries on the virtual clock, one key per notification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Answer, Loopback
from tests.support.shop import ValueTable

from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker


@pytest.fixture
def hook() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def alerting_worker(
    factory: sessionmaker[Session], clock: VirtualClock, tmp_path: Path, channel: str, severity: str
) -> Worker:
    """A started worker whose one check fires at `severity` to the one `channel` given."""
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("error_rate", 12)
    config, _ = parse(
        f"""
sources:
  shop: {{type: sql, url: "{shop.url}"}}
channels:
  {channel}
checks:
  - name: error_rate
    source: shop
    schedule: {{every: 1h}}
    query: SELECT value FROM metric WHERE name = 'error_rate'
    conditions: [{{when: ">= 10", severity: {severity}}}]
""",
        "t.yaml",
        env={},
    )
    worker = Worker(config, factory, clock, threads=False)
    worker.start()
    return worker


def test_a_failed_send_is_retried_with_the_same_idempotency_key(
    factory: sessionmaker[Session], clock: VirtualClock, hook: Loopback, tmp_path: Path
) -> None:
    worker = alerting_worker(
        factory,
        clock,
        tmp_path,
        f'ops: {{type: webhook, url: "{hook.url}/hook", secret: s3cret, timeout: 1s}}',
        "HIGH",
    )
    hook.answer = Answer(status=503, body=b"busy")
    worker.tick()
    with session_scope(factory) as s:
        (row,) = s.scalars(select(Notification)).all()
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert hook.url not in row.last_error  # a webhook URL is a secret
    # Not due yet: nothing is sent before the backoff has passed.
    worker.tick()
    assert len(hook.requests) == 1
    hook.answer = Answer(status=200, body=b"ok")
    clock.advance(timedelta(seconds=10))
    worker.tick()
    with session_scope(factory) as s:
        (row,) = s.scalars(select(Notification)).all()
    assert (row.state, row.attempts) == ("sent", 2)
    keys = [r.headers["idempotency-key"] for r in hook.requests]
    assert keys == [row.id, row.id]
    body = json.loads(hook.requests[-1].body)
    assert (body["event"], body["severity"], body["notification_id"]) == ("fired", "HIGH", row.id)


def test_a_permanent_failure_is_not_retried(
    factory: sessionmaker[Session], clock: VirtualClock, hook: Loopback, tmp_path: Path
) -> None:
    worker = alerting_worker(
        factory,
        clock,
        tmp_path,
        f'pd: {{type: pagerduty, routing_key: R0UT1NG, url: "{hook.url}/v2/enqueue"}}',
        "CRITICAL",
    )
    hook.json({"status": "invalid event", "errors": ["bad routing key"]}, 400)
    worker.tick()
    clock.advance(timedelta(hours=1, minutes=1))
    worker.tick()
    with session_scope(factory) as s:
        states = s.scalars(select(Notification.state)).all()
    assert states == ["failed"]
    first = json.loads(hook.requests[0].body)
    assert (first["event_action"], first["payload"]["severity"]) == ("trigger", "critical")
