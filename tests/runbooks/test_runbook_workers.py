"""Two workers on one PostgreSQL store share queued runbook steps (each run once: 0 lost, 0
duplicated), and a worker killed with SIGKILL mid-step leaves its run to be taken over when
the lease runs out: run again if it reads, ended as failed if it writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.runbooks import NOW, SHELL_ON, declare, runbook_config, shop_pg, tools_folder
from tests.support.store import truncate

from tocsin import actions
from tocsin.actions.runbooks import Selection
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.incidents.models import IncidentEvent
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.service import catalog
from tocsin.worker.loop import Worker

__all__ = ["shop_pg"]
RUNS = 40


def queue(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: VirtualClock,
    step: int,
    times: int,
    given: dict[str, str] | None = None,
) -> tuple[str, list[int]]:
    incident = declare(factory, config, clock, commander="bo")
    book = catalog(config.runbooks.path).get("tools")
    ids = []
    with session_scope(factory) as s:
        for _ in range(times):
            for row in actions.runbooks.request(
                s,
                config,
                book,
                Selection(step=step),
                incident_id=incident,
                given=given or {},
                by="ana",
                now=clock.now(),
                environ={},
            ):
                if row.mode == "write":
                    s.flush()
                    actions.runbooks.approve(s, row.id, "bo", clock.now())
                ids.append(row.id)
    return incident, ids


def test_two_workers_on_one_postgresql_store_run_each_step_once(
    pg_database: str, shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    clock = VirtualClock(NOW)
    engines = [make_engine(pg_database) for _ in range(2)]
    truncate(engines[0])
    factory = make_sessionmaker(engines[0])
    incident, ids = queue(factory, config, clock, 1, RUNS)
    workers = [
        Worker(config, make_sessionmaker(e), clock, worker_id=f"w{i}", threads=False)
        for i, e in enumerate(engines)
    ]
    gate = threading.Barrier(2)
    claimed: Counter[str] = Counter()

    def work(worker: Worker) -> None:
        gate.wait()
        while done := worker.run_due_runbook_steps():
            claimed[worker.id] += done

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(factory) as s:
        rows = s.execute(select(RunbookRun.id, RunbookRun.state, RunbookRun.attempts)).all()
        events = Counter(
            e.data["run_id"]
            for e in s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "runbook_step"))
        )
    for engine in engines:
        engine.dispose()
    assert sorted(r.id for r in rows) == sorted(ids)
    assert {(r.state, r.attempts) for r in rows} == {("succeeded", 1)}  # 0 lost, 0 twice
    assert events == dict.fromkeys(ids, 1)
    assert sum(claimed.values()) == RUNS
    assert incident


CHILD = """
import sys
from tocsin import actions
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker

config, _ = parse(open(sys.argv[2]).read(), "test.yaml", env={})
factory = make_sessionmaker(make_engine(sys.argv[1]))
actions.runbooks.run_due(factory, config, SystemClock(), "doomed", environ={})
"""


def kill_mid_step(
    store: str, config_text: str, tmp_path: Path, factory: sessionmaker[Session], run_id: int
) -> None:
    """Start a worker process on the run, wait until it holds it, then SIGKILL it."""
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "config.yaml").write_text(config_text)
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "child.py"), store, str(tmp_path / "config.yaml")],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with session_scope(factory) as s:
                if s.get(RunbookRun, run_id).state == "running":  # type: ignore[union-attr]
                    break
            time.sleep(0.05)
        time.sleep(0.3)  # into the step itself
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_a_step_whose_worker_is_killed_is_taken_over_after_its_lease(
    pg_database: str, shop_pg: str, tmp_path: Path
) -> None:
    text = f"""
sources:
  shop: {{type: sql, url: "{shop_pg}", statement_timeout: 5s}}
users:
  bo: {{email: bo@example.com}}
runbooks:
  path: {tools_folder(tmp_path)}
{SHELL_ON}
"""
    config, _ = parse(text, "test.yaml", env={})
    engine = make_engine(pg_database)
    truncate(engine)
    factory = make_sessionmaker(engine)
    clock = VirtualClock(NOW)
    _, (read_id,) = queue(factory, config, clock, 3, 1)  # its block is replaced below
    _, (write_id,) = queue(factory, config, clock, 7, 1, {"order_id": "1"})
    with session_scope(factory) as s:
        # A read that outlives the kill, and a write that is mid-step when it comes.
        s.get(RunbookRun, read_id).info = 'sh {"mode": "read", "timeout": "60s"}'  # type: ignore[union-attr]
        s.get(RunbookRun, read_id).body = "sleep 20\n"  # type: ignore[union-attr]
        s.get(RunbookRun, write_id).body = "SELECT pg_sleep(20)"  # type: ignore[union-attr]
        s.get(
            RunbookRun, write_id
        ).info = 'sql {"mode": "write", "source": "shop", "timeout": "60s"}'  # type: ignore[union-attr]
    kill_mid_step(pg_database, text, tmp_path, factory, read_id)
    with session_scope(factory) as s:
        states = {r.id: (r.state, r.attempts, r.lease_owner) for r in s.scalars(select(RunbookRun))}
    assert states[read_id] == ("running", 1, "doomed")
    # Nobody takes it while the dead worker's lease holds …
    later = VirtualClock(datetime.now(UTC))
    assert actions.runbooks.run_due(factory, config, later, "heir", ids=[read_id]) == []
    # … and once it has run out, the read runs again, the write is ended without running.
    later.advance(timedelta(minutes=2))
    with session_scope(factory) as s:
        s.get(RunbookRun, read_id).body = "echo again\n"  # type: ignore[union-attr]
    ended = {r.id: r for r in actions.runbooks.run_due(factory, config, later, "heir")}
    engine.dispose()
    assert ended[read_id].state == "succeeded"
    assert ended[read_id].attempts == 2
    assert ended[read_id].output == "again\n"
    assert states[write_id] == ("running", 1, "doomed")  # claimed with the read, not begun
    assert ended[write_id].state == "failed"
    assert "a write is not run again" in (ended[write_id].error or "")


def test_a_long_step_runs_beside_the_tick_not_in_it(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    clock = VirtualClock(NOW)
    _, (run_id,) = queue(factory, config, clock, 3, 1)
    with session_scope(factory) as s:
        row = s.get(RunbookRun, run_id)
        assert row is not None
        row.info, row.body = 'sh {"mode": "read", "timeout": "30s"}', "sleep 3\necho woke\n"
    worker = Worker(config, factory, clock, worker_id="w1", threads=True, channels={})
    worker.start()
    worker.tick()  # returns while the step sleeps on the runbook thread
    with session_scope(factory) as s:
        assert s.get(RunbookRun, run_id).state in ("queued", "running")  # type: ignore[union-attr]
    worker.stop()  # waits for the step in flight
    with session_scope(factory) as s:
        row = s.get(RunbookRun, run_id)
        assert row is not None
        assert (row.state, row.output) == ("succeeded", "woke\n")
