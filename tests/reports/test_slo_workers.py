"""Two workers on one PostgreSQL store run the burn-rate step at once, minute after minute:
each minute's slot is taken once, and each SLO's page and ticket alerts open once (0 lost, 0
duplicated)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.support.slos import outage, slo_config
from tests.support.store import truncate

from tocsin.actions.slos import JOB, check_burn
from tocsin.alerts.models import Alert
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.periodic import JobSlot
from tocsin.pipeline import Pipeline

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COPIES = 10
MINUTES = 20


def test_two_workers_raise_each_burn_alert_once(pg_database: str) -> None:
    extra = "".join(
        f"""
  copy-{i}:
    service: shop
    sli: {{type: availability, check: checkout}}
    objective: 99.9
"""
        for i in range(COPIES)
    )
    config = slo_config(extra)
    engines = [make_engine(pg_database) for _ in range(2)]
    truncate(engines[0])
    factories = [make_sessionmaker(e) for e in engines]
    pipelines = [Pipeline(config) for _ in engines]
    outage(factories[0], pipelines[0], NOW - timedelta(hours=2), None)
    gate = threading.Barrier(2)
    changed: Counter[int] = Counter()
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for minute in range(MINUTES):
                gate.wait()
                with session_scope(factories[i]) as s:
                    at = NOW + timedelta(minutes=minute, seconds=i)
                    changed[i] += check_burn(s, pipelines[i], config.slos, at, f"w{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below, not lost in the thread
            failures.append(exc)
            gate.abort()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(factories[0]) as s:
        slots = s.execute(select(JobSlot.slot_at, JobSlot.owner).where(JobSlot.job == JOB)).all()
        burns = Counter(
            (labels["slo"], labels["burn"])
            for (labels,) in s.execute(select(Alert.labels).where(Alert.origin == "slo"))
        )
    for engine in engines:
        engine.dispose()
    assert not failures, failures
    print(
        f"\nalerts changed per worker: {dict(changed)}; slots per worker: "
        f"{dict(Counter(owner for _, owner in slots))}"
    )
    assert len(slots) == MINUTES
    assert all(owner in ("w0", "w1") for _, owner in slots)
    assert sum(changed.values()) == 2 * (COPIES + 1)  # a page and a ticket per SLO, once
    assert len(burns) == 2 * (COPIES + 1)
    assert set(burns.values()) == {1}, "a burn-rate alert opened twice"
