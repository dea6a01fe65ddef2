"""How late escalation steps fire with 10,000 alerts escalating at once.

What it measures: for every escalation step, the time from its due instant to the commit of
the transaction that fired it (the step row `fired`, its timeline event and its notifications
written together), while one worker works through 10,000 escalations whose steps come due
over about a minute.

How, and why this way: the worker runs `run_forever`'s loop (tick; when a tick did nothing,
sleep `poll_interval`) on a clock that moves at the speed of real time from a base
instant: `now = base + (perf_counter() - started)`. So a step is late by exactly the wall time
the worker needed to get to it and commit it: its backlog behind the steps due before it, the
queries, the commits, and the poll sleep when it was idle. Advancing a virtual clock to each
due instant and timing the catch-up would leave the poll wait and the queueing of steps due
close together out of the figure; running at real speed keeps both in. The clock starting at a
fixed base (not the system clock) lets the store be filled beforehand, however long that takes.

Data: 10,000 open CRITICAL alerts, each with the policy of reference 000 §6.2.3 (0/5/15/30
minutes) run 60 times faster, as 0/5/15/30 s, copied onto it; escalations start evenly over
`--spread` seconds (120) from the base, so 40,000 steps come due over two and a half minutes,
267 a second on average and up to 333 a second where the four steps' windows overlap. That is
a rate to state, not a realistic storm (10,000 alerts on the real policy take half an hour to
escalate); `--spread 30` (667 steps/s on average) is past what one worker fires on a loaded
two-core machine, and shows how the lateness then grows with the backlog.
The alerts, escalations and step rows are written with bulk inserts in the shapes
`escalation.service.start` writes (the spec from `spec_of`), because firing 10,000 alerts
through the pipeline one by one would take longer than the measurement; nothing the worker
reads differs. Each step notifies one console channel.

The loop is the worker's `tick(send=False)`, as `tocsin run` ticks while its sender thread
delivers; here nothing delivers, so the figure is the escalation's own. With `--send` the tick
sends too (50 notifications a tick, to a console that writes nowhere): what a worker doing
everything on one thread would see.

Figures: steps due, the rate they came due, the rate the worker fired them while it had work
(steps per second of the passes that fired something; small batches understate what it could
do, so this is a lower bound of the most it keeps up with),
lateness p50 / p99 / max (seconds), steps fired twice (timeline events or notifications for
one step more than once: must be 0), steps not fired, and the worker's ticks. The script
exits non-zero if any step fired twice or never.

Target: p99 under 1 s.

Run: `.venv/bin/python bench/escalation.py [--alerts 10000] [--spread 120] [--send]
[--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]` (with `--url`, a throwaway
database is created on that server and dropped afterwards).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tocsin import store
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config import TocsinConfig, parse
from tocsin.db import make_engine, make_sessionmaker, session_scope
from tocsin.escalation import service as escalations
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.fingerprint import fingerprint
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline
from tocsin.worker.loop import Step, Worker

BASE = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
STEPS = (0, 5, 15, 30)  # seconds: §6.2.3's minutes, 60 times faster
POLL = timedelta(milliseconds=200)


class RunningClock:
    """Real time's pace from a fixed base: starts (at `base`) when `start` is called."""

    def __init__(self, base: datetime) -> None:
        self._base = base
        self._started: float | None = None

    def start(self) -> None:
        self._started = time.perf_counter()

    def now(self) -> datetime:
        if self._started is None:
            return self._base
        return self._base + timedelta(seconds=time.perf_counter() - self._started)


class TimedWorker(Worker):
    """The worker, noting when each pass of the escalation step committed, by the `now` the
    pass stamped on the steps it fired (their `fired_at`)."""

    commits: dict[datetime, datetime]
    busy: float  # seconds spent in passes that fired something

    def _steps(self, config: TocsinConfig, pipeline: Pipeline) -> list[Step]:
        """The worker's own steps, its escalation step timed (the tick runs `self.steps`)."""
        return [
            replace(step, run=self.fire_due_escalations)
            if step.claims.startswith("escalation_step")
            else step
            for step in super()._steps(config, pipeline)
        ]

    def fire_due_escalations(self, now: datetime) -> int:
        with session_scope(self.factory) as session:
            fired = self.pipeline.escalator.fire_due(session, now)
        if fired:
            self.commits[now] = self.clock.now()
            self.busy += (self.commits[now] - now).total_seconds()
        return fired


def config_text() -> str:
    steps = "".join(f"\n      - {{after: {s}s, notify: [log]}}" for s in STEPS)
    return f"""\
worker: {{poll_interval: {POLL.total_seconds()}s}}
channels:
  log: {{type: console}}
escalation_policies:
  critical:
    steps:{steps}
"""


def populate(
    factory: sessionmaker[Session], config: TocsinConfig, alerts: int, spread: float
) -> None:
    """Open alerts with the policy copied onto each, escalation i starting at
    base + i/alerts × spread."""
    spec = escalations.spec_of(config.escalation_policies["critical"])
    chunk = 1000
    with session_scope(factory) as session:
        for first in range(0, alerts, chunk):
            numbers = range(first, min(first + chunk, alerts))
            starts = [BASE + timedelta(seconds=spread * i / alerts) for i in numbers]
            alert_ids = session.scalars(
                insert(Alert).returning(Alert.id, sort_by_parameter_order=True),
                [
                    {
                        "fingerprint": fingerprint("bench", {"service": f"s{i}"}),
                        "origin": "event",
                        "labels": {"service": f"s{i}"},
                        "severity": "CRITICAL",
                        "state": "firing",
                        "title": f"s{i} down",
                        "message": "",
                        "started_at": at,
                        "updated_at": at,
                    }
                    for i, at in zip(numbers, starts, strict=True)
                ],
            ).all()
            escalation_ids = session.scalars(
                insert(Escalation).returning(Escalation.id, sort_by_parameter_order=True),
                [
                    {
                        "alert_id": alert_id,
                        "policy": "critical",
                        "spec": spec,
                        "state": "active",
                        "started_at": at,
                    }
                    for alert_id, at in zip(alert_ids, starts, strict=True)
                ],
            ).all()
            session.execute(
                insert(EscalationStep),
                [
                    {
                        "escalation_id": escalation_id,
                        "alert_id": alert_id,
                        "step": n,
                        "repeat": 0,
                        "due_at": at + timedelta(seconds=step["after"]),
                        "state": "pending",
                    }
                    for escalation_id, alert_id, at in zip(
                        escalation_ids, alert_ids, starts, strict=True
                    )
                    for n, step in enumerate(spec["steps"])
                ],
            )


def drive(worker: TimedWorker, clock: RunningClock, last_due: datetime, send: bool) -> int:
    """The worker's loop until every step is due and a tick finds nothing left to do;
    returns the ticks."""
    ticks = 0
    while True:
        done = worker.tick(send=send)
        ticks += 1
        if not done:
            if clock.now() > last_due:
                return ticks
            time.sleep(POLL.total_seconds())


def percentile(values: list[float], p: float) -> float:
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, round(p / 100 * (len(ranked) - 1)))]


def report(factory: sessionmaker[Session], worker: TimedWorker, alerts: int) -> None:
    commits = worker.commits
    with session_scope(factory) as session:
        steps = session.execute(
            select(EscalationStep.due_at, EscalationStep.fired_at, EscalationStep.state)
        ).all()
        events = Counter(
            (alert_id, data["step"], data["repeat"])
            for alert_id, data in session.execute(
                select(AlertEvent.alert_id, AlertEvent.data).where(
                    AlertEvent.kind == "escalation_step"
                )
            )
        )
        sent = Counter(
            (alert_id, payload["escalation"]["step"], payload["escalation"]["repeat"])
            for alert_id, payload in session.execute(
                select(Notification.alert_id, Notification.payload)
            )
            if "escalation" in payload
        )
    late = [
        (commits[fired_at] - due_at).total_seconds()
        for due_at, fired_at, state in steps
        if state == "fired" and fired_at is not None
    ]
    unfired = sum(1 for *_, state in steps if state != "fired")
    twice = sum(1 for n in events.values() if n > 1) + sum(1 for n in sent.values() if n > 1)
    window = (max(d for d, _, _ in steps) - min(d for d, _, _ in steps)).total_seconds()
    print(f"alerts: {alerts} alerts")
    print(f"steps_due: {len(steps)} steps")
    print(f"due_rate: {len(steps) / window:.0f} steps/s over {window:.1f} s")
    print(f"firing_rate: {len(late) / worker.busy:.0f} steps/s while busy ({worker.busy:.1f} s)")
    print(f"lateness_p50: {statistics.median(late):.3f} s")
    print(f"lateness_p99: {percentile(late, 99):.3f} s")
    print(f"lateness_max: {max(late):.3f} s")
    print(f"fired_twice: {twice} steps")
    print(f"not_fired: {unfired} steps", flush=True)
    if twice or unfired or len(events) != len(steps):
        raise SystemExit("a step fired twice or never")


@contextmanager
def store_url(url: str | None) -> Iterator[str]:
    """A fresh, migrated store: a SQLite file in a temp dir, or a throwaway database on the
    PostgreSQL server of `url`."""
    if url is None:
        directory = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
        try:
            yield f"sqlite:///{directory / 'store.db'}"
        finally:
            shutil.rmtree(directory)
        return
    name = f"tocsin_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=10_000, help="alerts escalating (10000)")
    parser.add_argument(
        "--spread", type=float, default=120.0, help="seconds over which escalations start (120)"
    )
    parser.add_argument("--send", action="store_true", help="send in the tick too")
    parser.add_argument("--url", help="a PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument("--profile", action="store_true", help="print where the loop spent time")
    args = parser.parse_args()
    config, _ = parse(config_text(), "bench.yaml", env={})
    print(f"load_average_1m: {os.getloadavg()[0]:.2f} processes")
    with store_url(args.url) as url:
        engine = make_engine(url)
        store.upgrade(engine)
        factory = make_sessionmaker(engine)
        print(f"store: {engine.dialect.name}")
        print(f"mode: {'whole tick (sender too)' if args.send else 'escalation step only'}")
        print(f"poll_interval: {POLL.total_seconds():.1f} s")
        populate(factory, config, args.alerts, args.spread)
        clock = RunningClock(BASE)
        worker = TimedWorker(
            config, factory, clock, worker_id="bench", console_write=lambda _: None, threads=False
        )
        worker.commits, worker.busy = {}, 0.0
        worker.start()
        last_due = BASE + timedelta(seconds=args.spread + max(STEPS))
        profile = cProfile.Profile() if args.profile else None
        clock.start()
        if profile is not None:
            profile.enable()
        ticks = drive(worker, clock, last_due, args.send)
        if profile is not None:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        worker.stop()
        print(f"ticks: {ticks} ticks")
        report(factory, worker, args.alerts)
        engine.dispose()
    print(f"load_average_1m_after: {os.getloadavg()[0]:.2f} processes")


if __name__ == "__main__":
    main()
