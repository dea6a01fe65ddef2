"""The status page under test: a configuration with components in two groups, and alerts and
maintenance windows written to the store as the rest of Tocsin writes them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config

from tocsin import actions
from tocsin.alerts import service as alerts
from tocsin.alerts.service import NewAlert
from tocsin.config import TocsinConfig
from tocsin.db import session_scope
from tocsin.incidents.service import NewIncident, NewUpdate
from tocsin.noise import maintenance
from tocsin.pipeline import Pipeline

STATUS = """
status:
  title: Acme
  components:
    - {name: Website, group: Storefront, description: "shop pages", services: [web]}
    - {name: Checkout, group: Storefront, services: [payments], checks: [checkout-errors]}
    - {name: Backups, group: Internals, heartbeats: [backup]}
    - {name: Search, services: [search]}
"""


def status_config(extra: str = "") -> TocsinConfig:
    return api_config(STATUS + extra)


def fire(
    factory: sessionmaker[Session],
    now: datetime,
    severity: str,
    *,
    service: str | None = None,
    check: str | None = None,
    heartbeat: str | None = None,
    key: str = "",
) -> int:
    """An open alert of `severity` about a service, a check or a heartbeat; its id."""
    labels = {"service": service} if service else {}
    origin = "heartbeat" if heartbeat else ("check" if check else "event")
    new = NewAlert(
        fingerprint=f"{service}{check}{heartbeat}{severity}{key}"[:32],
        origin=origin,
        check_name=check,
        labels=labels,
        severity=severity,
        title=f"{severity} {service or check or heartbeat}",
        message="internal detail that the page must not show",
        source=heartbeat,
    )
    with session_scope(factory) as session:
        alert, _ = alerts.fire(session, new, now)
        return alert.id


def resolve(factory: sessionmaker[Session], alert_id: int, now: datetime) -> None:
    with session_scope(factory) as session:
        alerts.resolve(session, alert_id, "test", now)


def window(
    factory: sessionmaker[Session],
    now: datetime,
    services: list[str],
    starts_in: timedelta,
    lasts: timedelta,
    title: str = "Database upgrade",
    *,
    public: bool = True,
) -> str:
    with session_scope(factory) as session:
        row = maintenance.create_window(
            session,
            title,
            services,
            now + starts_in,
            now + starts_in + lasts,
            "ops",
            now=now,
            description="Writes pause for a few minutes.",
            public=public,
        )
        return row.id


def declare(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    title: str = "Checkout is failing",
    severity: str = "SEV-1",
    services: tuple[str, ...] = ("payments",),
    public: bool = True,
    ago: timedelta = timedelta(0),
) -> str:
    """An incident declared `ago` before `now` through the door; its id."""
    with session_scope(factory) as session:
        new = NewIncident(
            title=title,
            severity=severity,
            services=list(services),
            public=public,
            declared_at=now - ago,
        )
        return actions.incidents.declare(session, Pipeline(status_config()), new, "ana", now).id


def post(
    factory: sessionmaker[Session],
    now: datetime,
    incident_id: str,
    message: str,
    status: str | None = None,
    *,
    public: bool | None = None,
) -> None:
    """A status update on the incident through the door (`status` resolved resolves it)."""
    with session_scope(factory) as session:
        new = NewUpdate(message=message, status=status, public=public)
        actions.incidents.post_update(
            session, Pipeline(status_config()), incident_id, new, "ana", now
        )
