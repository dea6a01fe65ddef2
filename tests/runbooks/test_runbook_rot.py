"""The nightly rot check: once per slot across instances, a WARNING alert through the door
while a read-only step fails, resolved once every step runs again."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.runbooks import NOW, SHELL_ON, runbook_config, shop_pg, tools_folder

from tocsin.actions.runbook_rot import check_due
from tocsin.alerts.models import Alert
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.pipeline import Pipeline
from tocsin.runbooks.models import RunbookRun
from tocsin.worker.loop import Worker

__all__ = ["shop_pg"]


def alerts(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with session_scope(factory) as s:
        rows = s.scalars(select(Alert).where(Alert.origin == "runbook_check").order_by(Alert.id))
        return [(a.severity, a.state, a.message) for a in rows]


def test_a_rotten_step_raises_a_warning_once_per_night_and_its_fix_resolves_it(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path
) -> None:
    folder = tools_folder(tmp_path)
    config = runbook_config(shop_pg, SHELL_ON, folder)
    pipeline = Pipeline(config)
    clock = VirtualClock(NOW)
    started = clock.now()
    # Not on the worker's first tick: the first slot after its start.
    assert check_due(factory, config, pipeline, clock, "w1", started) == 0
    clock.advance(timedelta(days=1))
    assert check_due(factory, config, pipeline, clock, "w1", started) > 0
    assert check_due(factory, config, pipeline, clock, "w2", started) == 0  # done this night
    [(severity, state, message)] = alerts(factory)
    assert (severity, state) == ("WARNING", "firing")
    assert "tools.md:" in message
    assert "timed_out" in message
    # The team fixes the runbook: the next night resolves the alert.
    text = (folder / "tools.md").read_text()
    (folder / "tools.md").write_text(
        text.replace("sleep 30", "echo slept").replace("SELECT pg_sleep(5)", "SELECT 1 AS one")
    )
    clock.advance(timedelta(days=1))
    assert check_due(factory, config, pipeline, clock, "w2", started) > 0
    assert [state for _, state, _ in alerts(factory)] == ["resolved"]


def test_the_worker_checks_the_runbooks_once_a_night(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    clock = VirtualClock(NOW)
    worker = Worker(config, factory, clock, worker_id="w1", threads=False, channels={})
    worker.start()
    worker.tick()
    assert alerts(factory) == []  # not when the worker starts
    clock.advance(timedelta(days=1))
    worker.tick()
    worker.tick()
    with session_scope(factory) as s:
        checked = s.scalars(select(RunbookRun).where(RunbookRun.purpose == "check")).all()
        lines = Counter(r.line for r in checked)
    assert lines
    assert set(lines.values()) == {1}  # each block once, however many ticks
    assert [severity for severity, _, _ in alerts(factory)] == ["WARNING"]
