"""A real `tocsin run` killed with -9 after an alert joined a group but before the group's
flush: the restarted process flushes it, exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.processes import wait_for
from tests.support.shop import ValueTable

from tocsin.db import session_scope
from tocsin.noise.models import AlertGroup
from tocsin.outbox.models import Notification

pytestmark = pytest.mark.slow


def config_text(store_url: str, shop: ValueTable) -> str:
    return f"""\
store: {{url: "{store_url}"}}
api: {{listen: "127.0.0.1:0"}}  # an ephemeral port: 8080 may be taken on a shared machine
worker: {{lease: 3s, poll_interval: 100ms, heartbeat_interval: 1s, concurrency: 1}}
sources:
  shop: {{type: sql, url: "{shop.url}"}}
channels:
  console: {{type: console, stream: stdout}}
grouping: {{by: [service], group_wait: 6s, group_interval: 1h, repeat_interval: 1h}}
checks:
  - name: payments
    source: shop
    schedule: {{every: 1s}}
    query: SELECT value FROM metric WHERE name = 'payments'
    labels: {{service: payments}}
    title: Payment processing stopped
    conditions:
      - {{when: ">= 10", severity: CRITICAL}}
"""


def groups(factory: sessionmaker[Session]) -> list[tuple[int, bool]]:
    with session_scope(factory) as s:
        return [(g.flush_count, g.next_flush_at is not None) for g in s.scalars(select(AlertGroup))]


def outbox(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with session_scope(factory) as s:
        return [(str(n.payload["title"]), n.state) for n in s.scalars(select(Notification))]


def test_a_worker_killed_before_a_flush_flushes_after_restart_exactly_once(
    tmp_path: Path,
    store_url: str,
    factory: sessionmaker[Session],
    start: Callable[[Path], subprocess.Popen[str]],
) -> None:
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("payments", 12)
    config = tmp_path / "tocsin.yaml"
    config.write_text(config_text(store_url, shop))
    proc = start(config)
    wait_for(lambda: groups(factory) == [(0, True)])  # the alert waits in its group
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert groups(factory) == [(0, True)], "the group flushed before the kill; test is void"
    assert outbox(factory) == []
    proc = start(config)
    wait_for(lambda: outbox(factory) == [("Payment processing stopped", "sent")])
    time.sleep(2)  # more ticks: nothing else may be flushed
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert groups(factory) == [(1, False)]
    assert outbox(factory) == [("Payment processing stopped", "sent")]
    assert (tmp_path / "run-1.log").read_text().count("Payment processing stopped") == 1
