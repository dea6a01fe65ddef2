"""Report runs on the virtual clock: one row per (report, slot), run once when due, the next
slot planned ahead, a slot missed while no worker ran run once when one is back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.reports import report_config
from tests.support.shop import ValueTable

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig
from tocsin.config.reports import ReportScheduleConfig
from tocsin.db import session_scope
from tocsin.outbox.models import Notification
from tocsin.reports import service
from tocsin.reports.models import ReportRun
from tocsin.reports.schedule import next_slot, previous_slot
from tocsin.worker.loop import Worker

MINUTE = timedelta(minutes=1)
NINE_NY = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)  # 09:00 in New York, the clock's start


@pytest.fixture
def shop(tmp_path: Path) -> ValueTable:
    table = ValueTable(tmp_path / "shop.db")
    table.set("failure_rate", 1.0)
    table.set("queue", 3)
    return table


def worker_for(
    config: TocsinConfig, factory: sessionmaker[Session], clock: VirtualClock, lines: list[str]
) -> Worker:
    worker = Worker(
        config, factory, clock, worker_id="w1", console_write=lines.append, threads=False
    )
    worker.start()
    return worker


def runs(factory: sessionmaker[Session]) -> list[ReportRun]:
    with session_scope(factory) as s:
        found = list(s.scalars(select(ReportRun).order_by(ReportRun.slot_at, ReportRun.id)))
        s.expunge_all()
    return found


def test_the_first_business_day_of_the_month_skips_weekends_and_holidays() -> None:
    schedule = ReportScheduleConfig(
        cron="0 9 * * *",
        timezone="America/New_York",
        only="first_business_day",
        holidays=[date(2027, 1, 1)],
    )
    slots = []
    at = datetime(2026, 11, 17, tzinfo=UTC)
    for _ in range(4):
        at = next_slot(schedule, at)
        slots.append(at)
    # 1 Dec 2026 is a Tuesday; 1 Jan 2027 a holiday (Friday); 1 Feb a Monday; 1 Mar a Monday.
    assert slots == [
        datetime(2026, 12, 1, 14, tzinfo=UTC),
        datetime(2027, 1, 4, 14, tzinfo=UTC),
        datetime(2027, 2, 1, 14, tzinfo=UTC),
        datetime(2027, 3, 1, 14, tzinfo=UTC),
    ]
    assert previous_slot(schedule, datetime(2027, 1, 20, tzinfo=UTC)) == slots[1]


def test_a_report_runs_at_its_slot_once_and_plans_the_next(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    clock.set(NINE_NY - MINUTE)
    lines: list[str] = []
    worker = worker_for(report_config(shop.url), factory, clock, lines)
    assert worker.run_due_reports() == 0
    (planned,) = runs(factory)
    assert (planned.state, planned.slot_at) == ("due", NINE_NY)

    clock.advance(MINUTE)
    assert worker.run_due_reports() == 1
    assert worker.run_due_reports() == 0
    done, following = runs(factory)
    assert (done.state, done.status, done.slot_at) == ("done", "healthy", NINE_NY)
    assert done.content is not None
    assert "Metrics" in done.content
    assert done.content_hash is not None
    assert len(done.content_hash) == 64
    assert done.figures is not None
    assert done.figures["status"] == "healthy"
    assert done.posted == 1
    assert (following.state, following.slot_at) == ("due", NINE_NY + timedelta(days=1))
    worker.tick()  # the console channel sends the posted notice
    assert any("Daily health check" in line for line in lines)


def test_a_critical_section_needs_attention_and_mentions(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    shop.set("failure_rate", 12.5)
    clock.set(NINE_NY - MINUTE)
    worker = worker_for(report_config(shop.url), factory, clock, [])
    clock.advance(MINUTE)
    worker.run_due_reports()
    done = runs(factory)[0]
    assert done.status == "needs_attention"
    assert done.content is not None
    assert done.content.splitlines()[1].startswith("@oncall Status: **needs attention**")
    assert "🔴 Metrics — CRITICAL" in done.content
    with session_scope(factory) as s:
        (note,) = s.scalars(select(Notification)).all()
        assert note.payload["event"] == "report"
        assert note.payload["mention"] == "@oncall"
        assert note.payload["status"] == "needs_attention"


def test_a_run_missed_while_no_worker_ran_runs_once_when_one_is_back(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = report_config(shop.url)
    clock.set(NINE_NY - MINUTE)
    worker_for(config, factory, clock, []).stop()
    clock.advance(timedelta(days=3, hours=2))  # three 09:00 slots pass with no worker
    worker = worker_for(config, factory, clock, [])
    assert worker.run_due_reports() == 1
    assert worker.run_due_reports() == 0
    done, following = runs(factory)
    assert (done.state, done.slot_at) == ("done", NINE_NY)
    assert (following.state, following.slot_at) == ("due", NINE_NY + timedelta(days=4))


def test_a_changed_schedule_replans_and_a_removed_report_is_dropped(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    clock.set(NINE_NY - MINUTE)
    worker = worker_for(report_config(shop.url), factory, clock, [])
    worker.reload(report_config(shop.url, cron="30 8 * * 1"))
    (planned,) = runs(factory)
    assert planned.slot_at == datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # Monday 08:30
    worker.reload(report_config(shop.url, reports=0, report_channels="[]"))
    assert runs(factory) == []


def test_a_run_whose_lease_was_lost_writes_nothing(
    factory: sessionmaker[Session], clock: VirtualClock, shop: ValueTable
) -> None:
    config = report_config(shop.url)
    clock.set(NINE_NY)
    with session_scope(factory) as s:
        service.sync(s, config.reports, NINE_NY - MINUTE)
        (first,) = service.claim_due(s, "w1", NINE_NY, timedelta(minutes=2))
    later = NINE_NY + timedelta(minutes=3)  # w1 stalled past its lease; w2 takes the run
    with session_scope(factory) as s:
        (second,) = service.claim_due(s, "w2", later, timedelta(minutes=2))
    assert second.run_id == first.run_id
    stored = service.Outcome("healthy", "text", {}, "0" * 64)
    with pytest.raises(Exception, match="lease was lost"), session_scope(factory) as s:
        service.complete(s, first, stored, later, config.reports["daily"])
    with session_scope(factory) as s:
        service.complete(s, second, stored, later, config.reports["daily"])
    done, _following = runs(factory)
    assert (done.state, done.attempts) == ("done", 2)
