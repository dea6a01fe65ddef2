"""The worker: a dumb loop over small steps that each say whether they did any work.

There is one step per due table (`Worker.steps` lists them): each claims the rows of its
table that have come due and does a batch of their work, then beats the heartbeat. Every
step reads and writes rows, so any number of workers can share one store and a worker
killed at any instant leaves nothing that a restart will not pick up.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions, noise, periodic
from tocsin.checks import service as checks
from tocsin.checks.sources import open_source
from tocsin.checks.sources.base import Source
from tocsin.clock import Clock
from tocsin.config import TocsinConfig
from tocsin.db import is_postgresql, session_scope
from tocsin.errors import Conflict, SourceError
from tocsin.heartbeats import service as heartbeats
from tocsin.inbound import repeats
from tocsin.inbound import service as inbound
from tocsin.incidents import verify as action_checks
from tocsin.notify.base import Channel
from tocsin.notify.registry import build_channels
from tocsin.outbox import digest as digests
from tocsin.outbox.doorbell import DOORBELL
from tocsin.outbox.listen import Listener
from tocsin.pipeline import Pipeline
from tocsin.reports import retention
from tocsin.reports import runs as reports
from tocsin.reports import service as report_runs
from tocsin.statuspage import publish
from tocsin.worker.leases import Keeper
from tocsin.worker.sender import Courier, Sender, send_batch

log = logging.getLogger("tocsin.worker")

Work = Callable[[Session, datetime], int]


@dataclass(frozen=True)
class Step:
    """One kind of due work: its name, the table whose due rows it claims, and `run`, which
    does one batch of it as of `now` and says how much it did (0: nothing was due). A
    `sender` step runs on the sender thread under `run_forever`, not in the tick."""

    name: str
    claims: str
    run: Callable[[datetime], int]
    sender: bool = False


class SourcePool:
    """Sources opened on first use and shared by the worker's threads."""

    def __init__(self, config: TocsinConfig) -> None:
        self._config = config
        self._open: dict[str, Source] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Source:
        with self._lock:
            if name not in self._open:
                source = self._config.sources[name]
                self._open[name] = open_source(source, egress=self._config.egress)
            return self._open[name]

    def close(self) -> None:
        with self._lock:
            for source in self._open.values():
                source.close()
            self._open.clear()


class Worker:
    def __init__(
        self,
        config: TocsinConfig,
        factory: sessionmaker[Session],
        clock: Clock,
        *,
        worker_id: str | None = None,
        channels: dict[str, Channel] | None = None,
        console_write: Callable[[str], None] | None = None,
        threads: bool = True,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._console_write = console_write
        self._fixed_channels = channels
        self._threads = threads
        self._last_beat: datetime | None = None
        self.started_at = clock.now()
        self.config = config
        self._noise_seeded = False
        self._tried: dict[str, datetime] = {}  # periodic job -> the last slot this worker tried
        self._index(config)
        self.sources = SourcePool(config)
        self.channels = channels or build_channels(config, console_write)
        self._pool = ThreadPoolExecutor(config.worker.concurrency, thread_name_prefix="check")
        self.courier = Courier(
            factory, clock, self.channels, self.pipeline, config.worker.lease, self.id
        )
        self.keeper = Keeper(
            factory, clock, self.id, config.worker.lease, lambda: self.courier.taken_over
        )

    def _index(self, config: TocsinConfig) -> None:
        """Look-ups per check, the pipeline and the steps, built once per configuration
        rather than once per evaluation."""
        self._checks = {check.name: check for check in config.checks}
        self.pipeline = Pipeline(config)
        self.steps = self._steps(config, self.pipeline)

    def _steps(self, config: TocsinConfig, pipeline: Pipeline) -> list[Step]:
        """Every due table this worker services, in the order a tick runs them. New due work
        (incident update reminders, runbook steps, report runs) is a line here: a name, the
        table it claims, and a function doing one batch of it in a transaction of its own."""
        beats = {beat.name: beat for beat in config.heartbeats}
        one = self._in_transaction

        def burn(session: Session, now: datetime) -> int:
            return actions.slos.check_burn(session, pipeline, config.slos, now, self.id)

        return [
            # Queries its sources outside any transaction: claims, then writes, by itself.
            Step("checks", "check_schedule (next_run_at)", self.run_due_checks),
            Step("escalation steps", "escalation_step (due_at)", one(pipeline.escalator.fire_due)),
            Step(
                "alert ends",
                "alert (ends_at)",
                one(lambda s, now: inbound.resolve_expired(s, now, pipeline)),
            ),
            Step(
                "missed heartbeats",
                "heartbeat (alert_at)",
                one(lambda s, now: heartbeats.raise_missed(s, beats, now, pipeline)),
            ),
            Step(
                "rescreens",
                "silence, maintenance_window, known_issue, inhibit_source (rescreen_at)",
                one(self._mute_due),
            ),
            Step(
                "group flushes",
                "alert_group (next_flush_at, repeat_at)",
                one(lambda s, now: noise.flush_due_groups(s, now, config.grouping)),
            ),
            Step("mute rechecks", "muted_alert (recheck_at)", one(pipeline.release_due)),
            Step("silence expiry notices", "silence (warned_at)", one(pipeline.warn_expiring)),
            Step("digests", "notification (state digest)", one(digests.send_due)),
            Step(
                "incident reminders",
                "incident (cadence_due_at)",
                one(lambda s, now: actions.incidents.remind_due(s, pipeline, now)),
            ),
            Step(
                "SLO burn-rate alerts",
                "job_slot (slo-burn, each minute)",
                self._once_a_minute(
                    one(
                        lambda s, now: actions.slos.check_burn(
                            s, pipeline, config.slos, now, self.id
                        )
                    )
                ),
            ),
            # Writes its files outside any transaction: claims, then records, by itself.
            Step("status publish", "status_publish (due_at)", self._publish_status),
            Step(
                "incident follow-ups",
                "incident (postmortem_due_at), incident_action (remind_at)",
                one(lambda s, now: actions.incidents.follow_up_due(s, pipeline, now)),
            ),
            # Queries its sources outside any transaction: claims, then completes, by itself.
            Step("report runs", "report_run (state, slot_at)", self.run_due_reports),
            # Runs its checks outside any transaction: claims, then records, by itself.
            Step(
                "action checks",
                "incident_action (verify_at)",
                lambda _now: action_checks.run_due(self.factory, self.config, self.clock),
            ),
            # Deletes in batches of their own transactions: leases the hour, then prunes.
            Step("retention", "job_slot (retention, each hour)", self._prune),
            # Sends outside any transaction: claims, then records, by itself.
            Step(
                "notifications",
                "notification (next_attempt_at)",
                lambda _now: self.send_due_notifications(),
                sender=True,
            ),
        ]

    def _once_a_minute(self, run: Callable[[datetime], int]) -> Callable[[datetime], int]:
        """`run` at most once per minute slot by this worker (its slot is claimed across
        workers inside `run`); the other ticks of the minute write nothing."""

        def guarded(now: datetime) -> int:
            slot = periodic.slot_at(now, actions.slos.EVERY)
            if slot == self._tried.get(actions.slos.JOB):
                return 0
            self._tried[actions.slos.JOB] = slot
            return run(now)

        return guarded

    def _publish_status(self, now: datetime) -> int:
        url = self.config.public_url.rstrip("/") + "/status"
        status = self.config.status
        return publish.run_due(self.factory, status, url, self.started_at, self.id, now)

    def _in_transaction(self, work: Work) -> Callable[[datetime], int]:
        def run(now: datetime) -> int:
            with session_scope(self.factory) as session:
                return work(session, now)

        return run

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        now = self.clock.now()
        self.keeper.register()
        with session_scope(self.factory) as session:
            checks.sync_schedules(session, self.config.checks, now)
            report_runs.sync(session, self.config.reports, now)
        self._last_beat = now
        log.info("worker %s started with %d checks", self.id, len(self.config.checks))

    def reload(self, config: TocsinConfig) -> None:
        """Swap in a new, already validated configuration."""
        self.sources.close()
        self.config = config
        self._noise_seeded = False
        self._index(config)
        self.sources = SourcePool(config)
        self.channels = self._fixed_channels or build_channels(config, self._console_write)
        self.courier.channels, self.courier.pipeline = self.channels, self.pipeline
        self.courier.lease = self.keeper.lease = config.worker.lease
        with session_scope(self.factory) as session:
            checks.sync_schedules(session, config.checks, self.clock.now())
            report_runs.sync(session, config.reports, self.clock.now())
        log.info("configuration reloaded: %d checks", len(config.checks))

    def stop(self) -> None:
        self._pool.shutdown(wait=True)
        self.sources.close()
        # Hand our leases back so another instance need not wait for them to run out.
        self.keeper.stop()
        log.info("worker %s stopped", self.id)

    # --- steps ------------------------------------------------------------------------

    def tick(self, send: bool = True) -> int:
        """Run every step once (the sender's only with `send`); return how much work was
        done (0 means idle)."""
        done = 0
        if not self.keeper.working:  # the store's schema is not this code's: claim nothing
            self.beat()
            return 0
        for step in self.steps:
            if send or not step.sender:
                done += step.run(self.clock.now())
        self.beat()
        return done

    def run_due_checks(self, now: datetime | None = None) -> int:
        """Claim a batch of due check slots, evaluate them outside any transaction, write
        the outcomes; returns how many were claimed."""
        now = now or self.clock.now()
        with session_scope(self.factory) as session:
            claims = checks.claim_due(
                session,
                self.id,
                now,
                self.config.worker.lease,
                limit=self.config.worker.concurrency * 8,
            )
            # Read what the evaluations need in the claiming transaction: one less per batch.
            snaps = self._snapshots(session, claims, now)
        self._run(claims, snaps, now)
        return len(claims)

    def run_claim(self, claim: checks.Claim) -> None:
        now = self.clock.now()
        with session_scope(self.factory) as session:
            snaps = self._snapshots(session, [claim], now)
        self._run([claim], snaps, now)

    def _snapshots(
        self, session: Session, claims: list[checks.Claim], now: datetime
    ) -> dict[str, actions.checks.Snapshot]:
        """Snapshots of the claimed checks; a claim whose check left the configuration is
        handed back."""
        for claim in claims:
            if claim.check_name not in self._checks:
                checks.release(session, claim)
        configs = [self._checks[c.check_name] for c in claims if c.check_name in self._checks]
        return actions.checks.snapshots(session, configs, now) if configs else {}

    def _run(
        self, claims: list[checks.Claim], snaps: dict[str, actions.checks.Snapshot], now: datetime
    ) -> None:
        """Query the sources outside any transaction (in the pool when threaded) and write the
        outcomes in batches: one transaction per batch instead of one per check."""
        known = [claim for claim in claims if claim.check_name in snaps]
        if not self._threads or len(known) <= 1:
            if known:
                self._apply([self._evaluate(claim, snaps, now) for claim in known])
            return
        # Write whatever has finished each time round, so a slow source delays no one else's.
        waiting = {self._pool.submit(self._evaluate, claim, snaps, now) for claim in known}
        while waiting:
            finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            self._apply([future.result() for future in finished])

    def _evaluate(
        self, claim: checks.Claim, snaps: dict[str, actions.checks.Snapshot], now: datetime
    ) -> actions.checks.Run:
        check = self._checks[claim.check_name]
        snap = snaps[check.name]
        try:
            source = self.sources.get(check.source)
            outcome = actions.checks.evaluate(check, source, snap, now)
        except SourceError as exc:  # opening the source failed (bad URL, missing driver)
            outcome = actions.checks.Outcome(
                check.name, now, now, "error", error_kind=exc.kind, error=str(exc), snapshot=snap
            )
        return actions.checks.Run(check, claim, outcome)

    def _apply(self, runs: list[actions.checks.Run]) -> None:
        try:
            with session_scope(self.factory) as session:
                events = actions.checks.apply(
                    session, runs, now=self.clock.now(), pipeline=self.pipeline, worker_id=self.id
                )
        except Conflict as exc:
            if len(runs) > 1:
                # One slot lost to another worker must not cost the batch: write each alone.
                for run in runs:
                    self._apply([run])
                return
            log.warning("%s: %s; another worker has it", runs[0].check.name, exc)
            return
        for run in runs:
            if run.outcome.status == "error":
                outcome = run.outcome
                log.warning(
                    "check %s failed (%s): %s", run.check.name, outcome.error_kind, outcome.error
                )
        for event in events:
            log.info("alert %s %s (%s)", event.alert_id, event.kind, event.severity)

    def run_due_reports(self, _now: datetime | None = None) -> int:
        """Claim due report runs, build them, store and post them; returns how many."""
        if not self.config.reports:
            return 0  # no claim at all: on SQLite even an empty UPDATE takes the writer
        lease, sources = self.config.worker.lease, self.sources.get
        return reports.run_due(self.factory, self.config, self.clock, self.id, lease, sources)

    def _prune(self, now: datetime) -> int:
        # Once this worker has tried an hour's slot, it leaves the hour alone: no write per tick.
        slot = periodic.slot_at(now, retention.EVERY)
        if slot == self._tried.get(retention.JOB):
            return 0
        self._tried[retention.JOB] = slot
        lease = self.config.worker.lease
        return retention.prune_due(
            self.factory, self.config.retention, self.id, now, lease, self.clock.now
        )

    def _mute_due(self, session: Session, now: datetime) -> int:
        """Seed the configuration's silences, windows and known issues once (they are due
        from their start), then mute the firing alerts noise begins to match."""
        if not self._noise_seeded:
            noise.seed(session, self.config, now)
            self._noise_seeded = True
        return self.pipeline.mute_due(session, now)

    def send_due_notifications(self) -> int:
        """Claim a batch of due notifications, send them one by one, record them together."""
        return send_batch(self.courier)

    def beat(self, force: bool = False) -> None:
        now = self.clock.now()
        interval = self.config.worker.heartbeat_interval
        if not force and self._last_beat is not None and now - self._last_beat < interval:
            return
        self.keeper.round()
        with session_scope(self.factory) as session:
            # Housekeeping at the pace of the heartbeat, by one instance per period.
            if periodic.once(session, "prune", periodic.slot_at(now, interval), now, self.id):
                repeats.prune(session)
                periodic.prune(session, now)
        self._last_beat = now

    # --- the loop ---------------------------------------------------------------------

    def run_forever(
        self, stop: threading.Event, reload: Callable[[], TocsinConfig | None] | None = None
    ) -> None:
        """Tick until `stop` is set; between ticks, ask `reload` for a new configuration.
        Notifications go from a thread of their own (`Sender`), woken by the doorbell as soon
        as a transition commits or a delivery finishes, so a slow check never delays a page."""
        sender = Sender(self.courier, self.config.notifications.concurrency)
        thread = threading.Thread(target=self._send_forever, args=(sender, stop), name="sender")
        thread.start()
        # On PostgreSQL, rows committed by other instances ring this one's doorbell too.
        engine = self.factory.kw.get("bind")
        listener = None
        if isinstance(engine, Engine) and is_postgresql(engine):
            listener = Listener(engine)
            listener.start()
        keeping = threading.Thread(target=self.keeper.run, name="leases")
        keeping.start()
        try:
            while not stop.is_set():
                done = self._step(lambda: self.tick(send=False))
                if reload is not None:
                    fresh = reload()
                    if fresh is not None:
                        self.reload(fresh)
                if not done:
                    stop.wait(self.config.worker.poll_interval.total_seconds())
        finally:
            stop.set()
            if listener is not None:
                listener.stop()
            DOORBELL.ring()
            thread.join()
            self._step(sender.close)
            self.keeper.halt()  # it renewed until what was in flight was recorded
            keeping.join()
            # A graceful stop sends what is already due (a restart would, but a page should
            # not wait for one); a few rounds at most, so a failing channel cannot hold it.
            # With other instances alive it hands the work over instead, at once.
            for _ in range(0 if self._step(self.keeper.others_alive) else 3):
                if not self._step(self.send_due_notifications):
                    break

    def _send_forever(self, sender: Sender, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self._step(sender.pump):
                DOORBELL.wait(self.config.worker.poll_interval.total_seconds())

    @staticmethod
    def _step(step: Callable[[], int]) -> int:
        try:
            return step()
        except Exception:
            log.exception("worker step failed; retrying")
            return 0
