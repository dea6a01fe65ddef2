"""Incidents under test: a configuration with users, a chat channel and a pager, and small
helpers to fire an alert and read what was written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.fingerprint import fingerprint
from tocsin.incidents.models import IncidentEvent
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline

CONFIG = """
channels:
  chat: {type: console}
  pager: {type: console}
users:
  ana: {email: ana@example.com}
  bo: {email: bo@example.com}
  cy: {email: cy@example.com}
schedules:
  payments:
    layers:
      - {name: main, start: "2026-11-01T09:00", rotation: weekly, participants: [cy]}
routes:
  notify: [pager]
  routes:
    - matchers: ['service="payments"', 'severity="CRITICAL"']
      incident: auto
incidents:
  timezone: America/New_York
  channels: [chat]
  via: [pager]
  update_every_by_severity: {SEV-4: 1h}
  oncall: {payments: "schedule:payments"}
"""


def incident_config(extra: str = "") -> TocsinConfig:
    config, _ = parse(CONFIG + extra, "test.yaml", env={})
    return config


def fire(
    factory: sessionmaker[Session],
    pipeline: Pipeline,
    clock: VirtualClock,
    name: str = "payments down",
    severity: str = "CRITICAL",
    service: str = "payments",
) -> int:
    with session_scope(factory) as s:
        alert, _ = actions.alerts.fire(
            s,
            pipeline,
            actions.alerts.NewAlert(
                fingerprint=fingerprint(name, {}),
                origin="event",
                labels={"service": service},
                severity=severity,
                title=name,
                message="",
            ),
            clock.now(),
        )
        return alert.id


def events(factory: sessionmaker[Session], incident_id: str) -> list[tuple[str, str | None]]:
    with session_scope(factory) as s:
        rows = s.execute(
            select(IncidentEvent.kind, IncidentEvent.actor)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        ).all()
    return [(kind, actor) for kind, actor in rows]


def notices(factory: sessionmaker[Session], event: str | None = None) -> list[dict[str, Any]]:
    """Incident notices written to the outbox (channel, target, payload), oldest first."""
    with session_scope(factory) as s:
        rows = s.scalars(
            select(Notification)
            .where(Notification.alert_id.is_(None))
            .order_by(Notification.created_at, Notification.id)
        ).all()
        found = [
            {"channel": n.channel, "target": n.target, **n.payload}
            for n in rows
            if str(n.payload.get("event", "")).startswith("incident_")
        ]
    return [n for n in found if event is None or n["event"] == event]
