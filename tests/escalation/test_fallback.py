"""A notification that fails for good raises Tocsin's own alert on the fallback channels;
the next delivery that works resolves it. Real webhook server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Answer, Loopback

from tocsin import actions
from tocsin.alerts import service as alerts
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.fingerprint import fingerprint
from tocsin.worker.loop import Worker


@pytest.fixture
def hook() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def test_a_channel_failing_for_good_pages_the_fallback_then_recovers(
    factory: sessionmaker[Session], clock: VirtualClock, hook: Loopback
) -> None:
    config, _ = parse(
        f"""
channels:
  hook: {{type: webhook, url: "{hook.url}/h", timeout: 1s}}
  log: {{type: console}}
notifications: {{fallback: [log]}}
routes: {{notify: [hook]}}
""",
        "t.yaml",
        env={},
    )
    lines: list[str] = []
    worker = Worker(config, factory, clock, console_write=lines.append, threads=False)
    worker.start()
    hook.answer = Answer(status=400, body=b"bad payload")

    def fire(name: str) -> None:
        with session_scope(factory) as s:
            actions.alerts.fire(
                s,
                worker.pipeline,
                actions.alerts.NewAlert(
                    fingerprint=fingerprint(name, {}),
                    origin="event",
                    labels={},
                    severity="HIGH",
                    title=f"{name} down",
                    message="",
                ),
                clock.now(),
            )

    fire("one")
    fire("two")
    while worker.tick():
        pass
    # Two permanent failures, one alert about the channel, told once on the fallback.
    assert len(hook.requests) == 2
    assert len(lines) == 1
    assert "HIGH FIRED: Notifications to hook are failing" in lines[0]
    assert "400" in lines[0]
    with session_scope(factory) as s:
        (failing,) = [a for a in alerts.list_(s, state="open") if a.origin == "delivery"]
        assert failing.labels == {"channel": "hook", "service": "tocsin"}
    hook.answer = Answer(status=200, body=b"ok")
    clock.advance(timedelta(minutes=1))
    fire("three")
    while worker.tick():
        pass
    assert len(lines) == 2
    assert "RESOLVED: Notifications to hook are failing" in lines[1]
    with session_scope(factory) as s:
        assert [a.title for a in alerts.list_(s, state="open")] == [
            "three down",
            "two down",
            "one down",
        ]
