"""Flapping on the worker and the virtual clock: hysteresis at 10 % / 5 % keeps a noisy
error rate from flapping at all; without it the safety net announces flapping once and
stays quiet until the series is stable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.configs import metric_config
from tests.support.shop import ValueTable

from tocsin.alerts.models import AlertEvent
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.outbox.models import Notification
from tocsin.worker.loop import Worker

FLAPPING = "flapping: {threshold: 3, window: 30m, stable_for: 5m}"
NOISY = [12, 8, 11, 7, 13, 9, 6, 12, 8, 11, 7, 12, 9, 10.5, 6.5, 11]  # around 10 %


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    table.set("error_rate", 1.0)
    return table


def run(
    factory: sessionmaker[Session],
    clock: VirtualClock,
    worker: Worker,
    shop: ValueTable,
    values: list[float],
) -> list[tuple[str, str | None]]:
    worker.start()
    for value in values:
        shop.set("error_rate", value)
        worker.tick()
        clock.advance(timedelta(minutes=1))
    worker.stop()
    with session_scope(factory) as s:
        rows = (
            s.execute(select(Notification.payload).order_by(Notification.created_at))
            .scalars()
            .all()
        )
    return [(str(p["event"]), str(p.get("note")).split(" (")[0]) for p in rows]


def test_hysteresis_at_10_and_5_percent_gives_no_flapping_notifications(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = metric_config(shop.url, when_high=">= 10", clear="< 5", extra=FLAPPING)
    worker = Worker(config, factory, clock, worker_id="w1", console_write=[].append, threads=False)
    sent = run(factory, clock, worker, shop, NOISY)
    assert sent == [("fired", "None")]  # one alert, held by hysteresis, never flapping


def test_without_hysteresis_flapping_is_announced_once_then_quiet_until_stable(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = metric_config(shop.url, when_high=">= 10", clear="< 10", extra=FLAPPING)
    # Without the WARNING rung a value under 10 resolves at once.
    config = config.model_copy(
        update={
            "checks": [
                config.checks[0].model_copy(update={"conditions": config.checks[0].conditions[:1]})
            ]
        }
    )
    worker = Worker(config, factory, clock, worker_id="w1", console_write=[].append, threads=False)
    sent = run(factory, clock, worker, shop, [*NOISY[:12], 12, 12, 12, 12, 12, 12, 12])
    flapping = "flapping: 4 state changes within 0:30:00; quiet until stable for 0:05:00"
    assert sent == [
        ("fired", "None"),
        ("resolved", "condition cleared"),
        ("fired", "fires again"),
        ("resolved", f"condition cleared; {flapping}"),  # the fourth change: announced once
        ("fired", "fires again"),  # stable for 5 minutes at 12 %: the open alert is told
    ]
    with session_scope(factory) as s:
        muted = s.scalars(select(AlertEvent).where(AlertEvent.kind == "suppressed")).all()
    assert {e.data["by"] for e in muted} == {"flapping", "never_notified"}


def test_with_grouping_on_the_groups_summary_says_the_series_flaps(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    grouping = "grouping: {group_wait: 0s, group_interval: 1m, repeat_interval: 4h}"
    config = metric_config(
        shop.url, when_high=">= 10", clear="< 10", extra=f"{FLAPPING}\n{grouping}"
    )
    config = config.model_copy(
        update={
            "checks": [
                config.checks[0].model_copy(update={"conditions": config.checks[0].conditions[:1]})
            ]
        }
    )
    worker = Worker(config, factory, clock, worker_id="w1", console_write=[].append, threads=False)
    run(factory, clock, worker, shop, [*NOISY[:12], 12, 12])
    with session_scope(factory) as s:
        messages = [
            str(p["message"])
            for p in s.execute(select(Notification.payload).order_by(Notification.created_at))
            .scalars()
            .all()
        ]
    flagged = [m for m in messages if "Flapping: changing state too often" in m]
    assert len(flagged) == 1, messages  # announced once, in the group's own notification
