"""A desk that fires and resolves alerts through the real pipeline, one transaction each,
on the virtual clock, for the noise-control tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions, noise
from tocsin.alerts import service as alerts
from tocsin.alerts.models import AlertEvent
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.escalation.models import Escalation, EscalationStep
from tocsin.fingerprint import fingerprint
from tocsin.noise import silences
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline


def noise_config(extra: str = "") -> TocsinConfig:
    config, _ = parse(
        f"""
channels:
  console: {{type: console}}
  pager: {{type: console}}
{extra}
""",
        "noise.yaml",
        env={},
    )
    return config


HOUR = timedelta(hours=1)


def run_noise(session: Session, pipeline: Pipeline, now: datetime) -> int:
    """The worker's noise steps once, in one transaction: how much work they did."""
    done = pipeline.mute_due(session, now)
    done += noise.flush_due_groups(session, now, pipeline.config.grouping)
    done += pipeline.release_due(session, now)
    return done + pipeline.warn_expiring(session, now)


class Desk:
    def __init__(
        self, factory: sessionmaker[Session], clock: VirtualClock, config: TocsinConfig
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.config = config
        self.pipeline = Pipeline(config)

    def fire(
        self,
        check: str,
        labels: dict[str, str] | None = None,
        *,
        title: str | None = None,
        message: str = "",
        severity: str = "HIGH",
    ) -> int:
        labels = labels or {}
        with session_scope(self.factory) as session:
            alert, _ = actions.alerts.fire(
                session,
                self.pipeline,
                actions.alerts.NewAlert(
                    fingerprint=fingerprint(check, labels),
                    origin="check",
                    check_name=check,
                    labels=labels,
                    severity=severity,
                    title=title or f"{check} is failing",
                    message=message,
                ),
                self.clock.now(),
            )
            return alert.id

    def resolve(self, alert_id: int) -> None:
        with session_scope(self.factory) as session:
            actions.alerts.resolve(session, self.pipeline, alert_id, "op", self.clock.now())

    def ack(self, alert_id: int) -> None:
        with session_scope(self.factory) as session:
            actions.alerts.acknowledge(session, self.pipeline, alert_id, "ana", self.clock.now())

    def step(self, advance: timedelta = timedelta(0)) -> int:
        """Move the clock, then run the worker's noise step once."""
        self.clock.advance(advance)
        with session_scope(self.factory) as session:
            return run_noise(session, self.pipeline, self.clock.now())

    def sent(self, alert_id: int | None = None) -> list[tuple[int, str, str]]:
        """(alert id, channel, event) of every outbox row, oldest first."""
        with session_scope(self.factory) as session:
            query = select(Notification).order_by(
                Notification.created_at, Notification.alert_id, Notification.channel
            )
            if alert_id is not None:
                query = query.where(Notification.alert_id == alert_id)
            rows = session.scalars(query).all()
            return [(n.alert_id, n.channel, str(n.payload["event"])) for n in rows]

    def payloads(self) -> list[dict[str, object]]:
        with session_scope(self.factory) as session:
            rows = session.scalars(select(Notification).order_by(Notification.created_at)).all()
            return [n.payload for n in rows if n.channel == "console"]

    def titles_at(self) -> list[tuple[datetime, str]]:
        """(when written, title) of each console notification."""
        with session_scope(self.factory) as session:
            rows = session.scalars(
                select(Notification)
                .where(Notification.channel == "console")
                .order_by(Notification.created_at)
            ).all()
            return [(n.created_at, str(n.payload["title"])) for n in rows]

    def timeline(self, alert_id: int) -> list[tuple[str, str | None]]:
        with session_scope(self.factory) as session:
            return [(e.kind, e.note) for e in alerts.timeline(session, alert_id)]

    def events(self, alert_id: int, kinds: Sequence[str]) -> list[AlertEvent]:
        with session_scope(self.factory) as session:
            return [e for e in alerts.timeline(session, alert_id) if e.kind in kinds]


PAGING = """
escalation_policies:
  page:
    steps:
      - {after: 0m, notify: [pager]}
      - {after: 10m, notify: [pager]}
routes: {notify: [console], escalation: page}
"""


def silence(
    d: Desk,
    matcher: str,
    *,
    starts_in: timedelta = timedelta(0),
    lasts: timedelta = HOUR,
    **extra: object,
) -> str:
    now = d.clock.now()
    start = now + starts_in
    with session_scope(d.factory) as s:
        return silences.create_silence(
            s, [matcher], start, start + lasts, "ana", "deploy", now=now, **extra
        ).id  # type: ignore[arg-type]


def escalation_states(d: Desk, alert_id: int) -> list[tuple[str, list[str]]]:
    with session_scope(d.factory) as s:
        out = []
        for escalation in s.scalars(select(Escalation).where(Escalation.alert_id == alert_id)):
            steps = s.scalars(
                select(EscalationStep.state)
                .where(EscalationStep.escalation_id == escalation.id)
                .order_by(EscalationStep.step)
            ).all()
            out.append((escalation.state, list(steps)))
        return out
