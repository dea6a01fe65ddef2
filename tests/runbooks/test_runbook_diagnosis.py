"""Diagnosis at alert time: a check's runbook's auto blocks run when its alert opens, and the
notification carries what they found; bounded by runbooks.auto_timeout."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.runbooks import NOW, SHIPPED, runbook_config, shop_pg

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig
from tocsin.db import session_scope
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

__all__ = ["shop_pg"]

CHECK = """
channels:
  pager: {{type: console}}
routes:
  notify: [pager]
checks:
  - name: payment_processing
    source: shop
    schedule: {{every: 5m}}
    query: "SELECT COUNT(*) AS recent_orders FROM orders WHERE created_at <= :now"
    params: {{now: now}}
    value: recent_orders
    conditions:
      - {{when: ">= 0", severity: CRITICAL}}
    labels: {{service: payments}}
    title: Payment processing stopped
    message: "{{{{ recent_orders }}}} orders"
    runbook: {runbook}
"""

SLOW = """---
id: slow
title: Slow
severity: CRITICAL
expected_duration: 5m
source: shop
---
# Slow

## Symptoms/Detection

- Slow.

## Resolution Steps

1. Look
   ```sql {"dialect": "postgresql", "auto": true, "timeout": "30s"}
   SELECT pg_sleep(20) AS slept
   ```
   ```sql {"auto": true}
   SELECT 1 AS never
   ```

## Verification Steps

- [ ] Fast again

## Escalation Criteria

- Nobody.
"""


def messages(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as s:
        return [str(n.payload.get("message")) for n in s.scalars(select(Notification))]


def fire_once(factory: sessionmaker[Session], config: TocsinConfig) -> list[str]:
    worker = Worker(config, factory, VirtualClock(NOW), worker_id="w1", threads=False, channels={})
    worker.start()
    worker.run_due_checks()
    return messages(factory)


def test_the_page_carries_the_runbooks_auto_diagnosis(
    factory: sessionmaker[Session], shop_pg: str
) -> None:
    config = runbook_config(shop_pg, CHECK.format(runbook="payment-processing-failure"), SHIPPED)
    found = fire_once(factory, config)
    assert found, "the alert was notified"
    (message,) = found
    assert "Diagnosis (payment-processing-failure):" in message
    assert "orders_last_15_min = " in message
    assert "minutes_since_last = " in message
    assert "message = " in message or "timestamp = " in message or "no rows" in message


def test_a_slow_diagnosis_is_cut_at_the_auto_timeout_and_the_alert_fires_anyway(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path
) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "slow.md").write_text(SLOW)
    extra = CHECK.format(runbook="slow").replace("runbooks:\n", "")
    config = runbook_config(shop_pg, "  auto_timeout: 1s\n" + extra, folder)
    (message,) = fire_once(factory, config)
    assert "Diagnosis (slow):" in message
    assert "- timed_out" in message
    assert "diagnosis stopped: 1s spent" in message
