"""HTTP and Prometheus checks through the worker, against loopback servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Loopback

from tocsin.alerts import service as alerts
from tocsin.checks.models import Evaluation
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.worker.loop import Worker


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.stop()


def worker_for(text: str, factory: sessionmaker[Session], clock: VirtualClock) -> Worker:
    config, _ = parse(text, "t.yaml", env={})
    worker = Worker(config, factory, clock, console_write=[].append, threads=False)
    worker.start()
    return worker


def test_an_http_check_alerts_on_status_and_json(
    factory: sessionmaker[Session], clock: VirtualClock, server: Loopback
) -> None:
    worker = worker_for(
        f"""
sources:
  api: {{type: http, url: "{server.url}/health", timeout: 2s}}
checks:
  - name: api_health
    source: api
    schedule: {{every: 1m}}
    labels: {{service: api}}
    message: "status {{{{ status }}}}, database {{{{ json.database if json else 'unknown' }}}}"
    conditions:
      - {{when: "status >= 500", severity: CRITICAL}}
      - {{when: "json.database != 'ok'", severity: HIGH}}
""",
        factory,
        clock,
    )
    severities = []
    for payload, status in [
        ({"database": "ok"}, 200),
        ({"database": "slow"}, 200),
        ({"database": "down"}, 503),
        ({"database": "ok"}, 200),
    ]:
        server.json(payload, status)
        worker.tick()
        clock.advance(timedelta(minutes=1))
        with session_scope(factory) as s:
            found = alerts.list_(s, state="open")
            severities.append(found[0].severity if found else None)
    assert severities == [None, "HIGH", "CRITICAL", None]
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s)
    assert alert.message == "status 200, database ok"  # the answer that cleared it
    assert len(server.requests) == 4


def test_a_prometheus_check_alerts_per_series(
    factory: sessionmaker[Session], clock: VirtualClock, server: Loopback
) -> None:
    def vector(values: dict[str, float]) -> dict[str, object]:
        return {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": {"instance": name, "job": "web"}, "value": [1.0, str(v)]}
                    for name, v in values.items()
                ],
            },
        }

    worker = worker_for(
        f"""
sources:
  prom: {{type: prometheus, url: "{server.url}"}}
checks:
  - name: cpu
    source: prom
    schedule: {{every: 1m}}
    query: avg by (instance, job) (rate(cpu_seconds_total[5m]))
    conditions: [{{when: "> 0.9", severity: WARNING}}]
""",
        factory,
        clock,
    )
    server.json(vector({"a:9100": 0.95, "b:9100": 0.2}))
    worker.tick()
    clock.advance(timedelta(minutes=1))
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s, state="open")
    assert alert.labels == {"instance": "a:9100", "job": "web"}
    server.json(vector({"a:9100": 0.1, "b:9100": 0.2}))
    worker.tick()
    with session_scope(factory) as s:
        assert alerts.list_(s, state="open") == []
    assert server.requests[0].query["query"] == [
        "avg by (instance, job) (rate(cpu_seconds_total[5m]))"
    ]


def test_an_http_timeout_is_a_check_error(
    factory: sessionmaker[Session], clock: VirtualClock, server: Loopback
) -> None:
    worker = worker_for(
        f"""
sources:
  api: {{type: http, url: "{server.url}/slow", timeout: 200ms}}
checks:
  - name: api
    source: api
    schedule: {{every: 1m}}
    on_error: {{severity: CRITICAL}}
    conditions: [{{when: "status != 200", severity: CRITICAL}}]
""",
        factory,
        clock,
    )
    server.answer.delay = 2.0
    worker.tick()
    with session_scope(factory) as s:
        (alert,) = alerts.list_(s, state="open")
        kinds = s.scalars(select(Evaluation.error_kind)).all()
    assert kinds == ["timeout"]
    assert (alert.origin, alert.severity) == ("check_error", "CRITICAL")
