"""An inbound batch's new alerts go through `Pipeline.dispatch` together, which screens and
routes them with reads made once per batch. It must leave exactly the rows that dispatching
each alert in turn (what it replaced) leaves: the same batches are applied to
the same store twice, once each way, and every table is compared row by row, ids included.
And a batch that fails part way through keeps nothing; one the sender only repeated locks
nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from tests.support.store import dump

from tocsin.alerts.models import Alert, AlertChange, AlertEvent
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.inbound import alertmanager
from tocsin.inbound import service as inbound
from tocsin.models import Base
from tocsin.noise import known_issues, maintenance, silences
from tocsin.noise.models import InhibitSource, KnownIssue
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline

CONFIG = """
public_url: https://tocsin.example
secret_key: "an-ack-link-secret-that-is-long-enough-0123"
channels:
  console: {type: console}
  pager: {type: console}
  digest: {type: console}
routes:
  notify: [console]
  routes:
    - {matchers: ['severity="CRITICAL"'], notify: [console], escalation: page}
    - {matchers: ['team="reports"'], notify: [digest], digest: true}
escalation_policies:
  page:
    steps:
      - {after: 0s, notify: [pager]}
      - {after: 10m, notify: [pager, console]}
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['alertname!="NodeDown"']
    equal: [instance]
flapping: {threshold: 2, window: 1h, stable_for: 30m}
"""
GROUPED = CONFIG + "grouping: {by: [service], group_wait: 30s}\n"


class OneByOne(Pipeline):
    """The pipeline as it was before batches: `dispatch` for each alert in turn."""

    def dispatch(
        self, session: Session, changes: Sequence[tuple[Alert, AlertEvent]], now: datetime
    ) -> None:
        for change in changes:
            super().dispatch(session, [change], now)


def config_of(text_: str) -> TocsinConfig:
    config, _ = parse(text_, "batch.yaml", env={})
    return config


def am(name: str, instance: str, now: datetime, **labels: str) -> dict[str, Any]:
    """One alert as Prometheus posts it, ending 10 minutes from `now` (past: resolved)."""
    ends = labels.pop("ends", None)
    end = now + timedelta(minutes=-1 if ends == "past" else 10)
    return {
        "labels": {"alertname": name, "instance": instance, **labels},
        "annotations": {"summary": f"{name} on {instance}"},
        "endsAt": end.isoformat(),
    }


def post(
    factory: sessionmaker[Session], pipeline: Pipeline, now: datetime, alerts: list[dict[str, Any]]
) -> None:
    batch = alertmanager.parse_postable(json.dumps(alerts).encode(), now, "prometheus")
    with session_scope(factory) as session:
        inbound.apply(session, batch, now, pipeline, "prometheus")


def setup_noise(factory: sessionmaker[Session], now: datetime) -> None:
    with session_scope(factory) as session:
        silences.create_silence(
            session,
            ['team="muted"'],
            now,
            now + timedelta(hours=2),
            "ana",
            "a quiet team",
            now=now,
            silence_id="00000000-0000-4000-8000-000000000001",
        )
        maintenance.create_window(
            session,
            "db upgrade",
            ["db"],
            now,
            now + timedelta(hours=2),
            "ana",
            now=now,
            window_id="00000000-0000-4000-8000-000000000002",
        )
        known_issues.create_known_issue(
            session,
            "FLAKY-1",
            "the flaky probe",
            now + timedelta(hours=2),
            now=now,
            matchers=['alertname="Flaky"'],
        )


def scenario(factory: sessionmaker[Session], pipeline: Pipeline, clock: VirtualClock) -> None:
    """Batches of new, re-sent, resolved and re-fired alerts, muted every way."""
    now = clock.now()
    setup_noise(factory, now)
    post(
        factory,
        pipeline,
        now,
        [
            # A target before its source in the batch: not inhibited (one by one, the source
            # was not yet indexed); the same after it: inhibited by it.
            am("HighLatency", "a", now, service="web"),
            am("NodeDown", "a", now, service="web", severity="critical"),
            am("ErrorRate", "a", now, service="web"),
            am("HighLatency", "b", now, service="web"),
            am("HighLatency", "c", now, service="web", team="muted"),  # silenced
            am("DiskFull", "d", now, service="db"),  # maintenance
            am("Flaky", "e", now, service="api"),  # known issue
            am("Report", "f", now, service="api", team="reports"),  # digest
            am("Paging", "g", now, service="api", severity="critical"),  # escalates at once
            am("Flapper", "h", now, service="api"),
        ],
    )
    now = clock.advance(timedelta(minutes=1))
    post(
        factory,
        pipeline,
        now,
        [
            am("HighLatency", "b", now, service="web"),  # re-sent, nothing new
            am("ErrorRate", "a", now, service="web", severity="critical"),  # another series
            am("NodeDown", "a", now, service="web", severity="critical", ends="past"),  # resolves
            am("Flapper", "h", now, service="api", ends="past"),
            am("ErrorRate", "x", now, service="web"),  # new
            am("NodeDown", "y", now, service="web"),  # a new source …
            am("HighLatency", "y", now, service="web"),  # … and its target
        ],
    )
    now = clock.advance(timedelta(minutes=1))
    post(
        factory,
        pipeline,
        now,
        [
            am("Flapper", "h", now, service="api"),  # fires again: flapping
            am("NodeDown", "a", now, service="web"),  # fires again after resolving
            am("HighLatency", "z", now, service="web", team="muted"),
            am("HighLatency", "c", now, service="web", team="muted", ends="past"),
        ],
    )


def reset(engine: Engine) -> None:
    tables = Base.metadata.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in reversed(tables):  # no AUTOINCREMENT: ids start again at 1
            conn.execute(delete(table))
        conn.execute(delete(AlertChange))  # what deleting open alerts just logged


@pytest.mark.parametrize("config_text", [CONFIG, GROUPED], ids=["routed", "grouped"])
def test_a_batch_leaves_the_same_rows_as_one_alert_at_a_time(
    engine: Engine, factory: sessionmaker[Session], clock: VirtualClock, config_text: str
) -> None:
    config = config_of(config_text)
    start = clock.now()
    scenario(factory, OneByOne(config), clock)
    expected = dump(engine)
    reset(engine)
    clock.set(start)
    scenario(factory, Pipeline(config), clock)
    got = dump(engine)
    assert got == expected
    # The scenario did what it says (so the comparison compared something).
    kinds = {json.loads(r)["kind"] for r in got["alert_event"]}
    assert {"fired", "suppressed", "resolved"} <= kinds
    reasons = {json.loads(r)["data"].get("by") for r in got["alert_event"]}
    assert {"silence", "maintenance", "known_issue", "inhibition"} <= reasons
    assert got["inhibit_source"]
    assert got["flap_series"]
    if config.grouping is not None:  # grouped alerts wait for their group, never escalate
        assert got["alert_group_entry"]
    else:
        assert "escalation_step" in kinds
        states = {json.loads(r)["state"] for r in got["notification"]}
        assert states == {"pending", "digest"}


def test_an_alert_failing_part_way_through_a_batch_leaves_nothing_stored(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = config_of(CONFIG)
    now = clock.now()
    with session_scope(factory) as session:
        # A known issue whose regex cannot compile (written behind the service's back):
        # screening the one alert it applies to raises, after the alerts before it in the
        # batch were screened and routed.
        session.add(
            KnownIssue(
                id="BROKEN",
                matchers=['alertname="Broken"'],
                message_regex="(",
                reason="broken",
                origin="cli",
                created_by="ana",
                created_at=now,
                expires_at=now + timedelta(hours=1),
                suppressed_count=0,
            )
        )
    batch = [
        am("NodeDown", "a", now, severity="critical"),
        am("HighLatency", "a", now),
        am("Broken", "b", now),
        am("HighLatency", "c", now),
    ]
    with pytest.raises(re.error):
        post(factory, Pipeline(config), now, batch)
    with session_scope(factory) as session:
        for model in (Alert, AlertEvent, Notification, InhibitSource):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_a_batch_the_sender_only_repeated_locks_no_row(
    pg_database: str, clock: VirtualClock
) -> None:
    """On PostgreSQL a re-send that changes nothing reads without FOR UPDATE (a row lock is a
    write, and its commit flushes the WAL): another transaction may change the alert
    meanwhile without waiting. (SQLite: the group writer holds the store's one write lock.)"""
    engine = make_engine(pg_database)
    factory = make_sessionmaker(engine)
    pipeline = Pipeline(config_of(CONFIG))
    now = clock.now()
    alerts = [am("Repeated", str(i), now, batch_test="repeat") for i in range(3)]
    post(factory, pipeline, now, alerts)
    batch = alertmanager.parse_postable(json.dumps(alerts).encode(), now, "prometheus")
    session = factory()
    try:
        applied = inbound.apply(session, batch, now, pipeline, "prometheus")
        assert [a.outcome for a in applied] == ["unchanged"] * 3
        with engine.connect() as other:
            other.execute(text("SET lock_timeout = '5s'"))  # a lock held would fail this
            other.execute(update(Alert).where(Alert.id == applied[0].alert_id).values(title="x"))
            other.commit()
        session.commit()
    finally:
        session.close()
        engine.dispose()
