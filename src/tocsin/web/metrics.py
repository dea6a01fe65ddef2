"""`/metrics`: Tocsin's own figures in the Prometheus text format, read from the store.

A scrape reads a snapshot at most `max_age` old, so scraping every few seconds from several
Prometheus servers costs a handful of grouped COUNT queries per `max_age`, not per scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.models import Alert
from tocsin.checks.models import Evaluation
from tocsin.clock import Clock
from tocsin.db import session_scope
from tocsin.escalation.models import EscalationStep
from tocsin.heartbeats.models import Heartbeat
from tocsin.instances.models import WorkerHeartbeat
from tocsin.instances.service import FRESH_BEATS, Instance, listing
from tocsin.outbox.models import Notification


@dataclass
class Snapshot:
    at: datetime
    evaluations: list[tuple[str, str, int]] = field(default_factory=list)
    alerts: list[tuple[str, str, int]] = field(default_factory=list)
    notifications: list[tuple[str, str, int]] = field(default_factory=list)
    heartbeats: list[tuple[str, int]] = field(default_factory=list)
    workers: int = 0
    steps: list[tuple[str, int]] = field(default_factory=list)
    overdue: int = 0
    lateness: dict[str, float] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)


LATENESS_WINDOW = timedelta(hours=1)
OVERDUE_AFTER = timedelta(minutes=1)


def _lateness(session: Session, now: datetime) -> dict[str, float]:
    """p50, p99 and max of how late escalation steps fired over the last hour."""
    rows = session.execute(
        select(EscalationStep.due_at, EscalationStep.fired_at)
        .where(EscalationStep.state == "fired", EscalationStep.fired_at >= now - LATENESS_WINDOW)
        .limit(100_000)
    ).all()
    late = sorted((fired - due).total_seconds() for due, fired in rows if fired is not None)
    if not late:
        return {}
    pick = {"0.5": 0.5, "0.99": 0.99}
    out = {q: late[min(len(late) - 1, int(p * len(late)))] for q, p in pick.items()}
    out["1"] = late[-1]
    return out


def read(session: Session, now: datetime, worker_fresh: timedelta) -> Snapshot:
    def grouped(*columns: object) -> list[tuple[str, str, int]]:
        rows = session.execute(select(*columns, func.count()).group_by(*columns)).all()  # type: ignore[call-overload]
        return [(str(a), str(b), int(n)) for a, b, n in rows]

    return Snapshot(
        at=now,
        evaluations=grouped(Evaluation.check_name, Evaluation.status),
        alerts=grouped(Alert.state, Alert.severity),
        notifications=grouped(Notification.channel, Notification.state),
        heartbeats=[
            (str(s), int(n))
            for s, n in session.execute(
                select(Heartbeat.status, func.count()).group_by(Heartbeat.status)
            ).all()
        ],
        steps=[
            (str(s), int(n))
            for s, n in session.execute(
                select(EscalationStep.state, func.count()).group_by(EscalationStep.state)
            ).all()
        ],
        overdue=int(
            session.scalar(
                select(func.count())
                .select_from(EscalationStep)
                .where(
                    EscalationStep.state == "pending",
                    EscalationStep.due_at < now - OVERDUE_AFTER,
                )
            )
            or 0
        ),
        lateness=_lateness(session, now),
        instances=[i for i in listing(session, now, worker_fresh / FRESH_BEATS) if i.alive],
        workers=int(
            session.scalar(
                select(func.count())
                .select_from(WorkerHeartbeat)
                .where(
                    WorkerHeartbeat.stopped_at.is_(None),
                    WorkerHeartbeat.heartbeat_at >= now - worker_fresh,
                )
            )
            or 0
        ),
    )


class StoreCollector(Collector):
    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        worker_fresh: timedelta,
        max_age: timedelta = timedelta(seconds=10),
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.worker_fresh = worker_fresh
        self.max_age = max_age
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        with self._lock:
            if self._snapshot is None or now - self._snapshot.at >= self.max_age:
                with session_scope(self.factory) as session:
                    self._snapshot = read(session, now, self.worker_fresh)
            return self._snapshot

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        snap = self.snapshot()
        evaluations = CounterMetricFamily(
            "tocsin_evaluations", "Check evaluations stored", labels=["check", "status"]
        )
        for check, status, n in snap.evaluations:
            evaluations.add_metric([check, status], n)
        alerts = GaugeMetricFamily(
            "tocsin_alerts",
            "Alerts in the store by state and severity",
            labels=["state", "severity"],
        )
        for state, severity, n in snap.alerts:
            alerts.add_metric([state, severity], n)
        sent = GaugeMetricFamily(
            "tocsin_notifications",
            "Notifications by channel and outcome (pending, sending, sent, failed)",
            labels=["channel", "state"],
        )
        depth = 0
        for channel, state, n in snap.notifications:
            sent.add_metric([channel, state], n)
            depth += n if state in ("pending", "sending") else 0
        beats = GaugeMetricFamily("tocsin_heartbeats", "Heartbeats by status", labels=["status"])
        for status, n in snap.heartbeats:
            beats.add_metric([status], n)
        yield evaluations
        yield alerts
        yield sent
        yield GaugeMetricFamily(
            "tocsin_outbox_depth", "Notifications waiting to be sent", value=depth
        )
        yield beats
        yield GaugeMetricFamily(
            "tocsin_workers_alive", "Workers with a fresh heartbeat", value=snap.workers
        )
        steps = GaugeMetricFamily(
            "tocsin_escalation_steps", "Escalation steps by state", labels=["state"]
        )
        for state, n in snap.steps:
            steps.add_metric([state], n)
        yield steps
        yield GaugeMetricFamily(
            "tocsin_escalation_steps_overdue",
            "Escalation steps still pending a minute after they came due",
            value=snap.overdue,
        )
        late = GaugeMetricFamily(
            "tocsin_escalation_lateness_seconds",
            "How late escalation steps fired over the last hour (quantile 1 is the maximum)",
            labels=["quantile"],
        )
        for quantile, seconds in snap.lateness.items():
            late.add_metric([quantile], seconds)
        yield late
        yield from _instances(snap.instances)


def _instances(alive: list[Instance]) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
    """Per living instance: the leases it holds and the rows it took over from dead ones."""
    held = GaugeMetricFamily(
        "tocsin_instance_leases",
        "Leases each living instance holds now (checks evaluated, notifications sent)",
        labels=["instance", "kind"],
    )
    taken = CounterMetricFamily(
        "tocsin_instance_taken_over",
        "Rows of dead instances each living instance took over after their lease ran out",
        labels=["instance"],
    )
    for row in alive:
        held.add_metric([row.id, "check"], row.checks_held)
        held.add_metric([row.id, "notification"], row.notifications_held)
        taken.add_metric([row.id], row.taken_over)
    yield held
    yield taken


def registry(collector: StoreCollector) -> CollectorRegistry:
    """A registry of its own per app, so two apps in one process never clash."""
    found = CollectorRegistry(auto_describe=False)
    found.register(collector)
    return found
