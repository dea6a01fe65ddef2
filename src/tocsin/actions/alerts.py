"""Every change of an alert, whoever asks for it: a check's evaluation, an inbound event, a
heartbeat, an operator on the CLI, the API or the console, Tocsin's own delivery failures.

Each function makes the change through the alert service (a compare-and-set plus its
timeline row) and then calls `_after` in the caller's transaction, so a change and
everything it causes commit together or not at all. `_after` is the one place to say "also
do X whenever an alert changes" (an incident's timeline, a runbook's diagnosis): today it
hands the changes to the pipeline, built once per configuration and passed in, for their
notifications. A function here never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.service import Change, NewAlert
from tocsin.errors import Conflict
from tocsin.fingerprint import fingerprint
from tocsin.incidents import auto as incidents
from tocsin.outbox import service as outbox
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline

log = logging.getLogger("tocsin.actions")

DELIVERY_ORIGIN = "delivery"  # Tocsin's own alert: a channel that fails for good

__all__ = [
    "DELIVERY_ORIGIN",
    "NewAlert",
    "acknowledge",
    "change_severity",
    "delivery_failed",
    "delivery_recovered",
    "fire",
    "fire_many",
    "resolve",
]


def fire(session: Session, pipeline: Pipeline, new: NewAlert, now: datetime) -> Change:
    """Open an alert. Conflict (and nothing written) if one is already open for its
    fingerprint."""
    change = alerts.fire(session, new, now)
    _after(session, pipeline, [change], now)
    return change


def fire_many(
    session: Session, pipeline: Pipeline, new: Sequence[NewAlert], now: datetime
) -> list[Change]:
    """Open alerts for fingerprints the caller found closed (see `alerts.fire_many`), in
    two statements, and hand them on together: the pipeline screens and routes such a
    batch with reads made once rather than per alert (an inbound request's new alerts)."""
    changes = alerts.fire_many(session, new, now)
    _after(session, pipeline, changes, now)
    return changes


def change_severity(
    session: Session,
    pipeline: Pipeline,
    alert_id: int,
    severity: str,
    now: datetime,
    *,
    value: float | None = None,
    message: str | None = None,
) -> Change:
    """Move an open alert to another severity. Conflict if it changed meanwhile."""
    alert = alerts.get(session, alert_id)
    event = alerts.change_severity(session, alert, severity, now, value=value, message=message)
    _after(session, pipeline, [(alert, event)], now)
    return alert, event


def acknowledge(
    session: Session,
    pipeline: Pipeline,
    alert_id: int,
    by: str,
    now: datetime,
    note: str | None = None,
) -> Change:
    """Someone owns the alert: its escalation stops and everyone told so far hears it.
    NotFound, or Conflict if it is not firing."""
    change = alerts.acknowledge(session, alert_id, by, now, note)
    _after(session, pipeline, [change], now)
    return change


def resolve(
    session: Session,
    pipeline: Pipeline,
    alert_id: int,
    by: str | None,
    now: datetime,
    note: str | None = None,
) -> Change:
    """The alert is over (`by` None: its source says so); if the condition still holds a new
    alert opens later. NotFound, or Conflict if it is already resolved."""
    change = alerts.resolve(session, alert_id, by, now, note)
    _after(session, pipeline, [change], now)
    return change


def delivery_failed(
    session: Session, pipeline: Pipeline, notification: Notification, error: str, now: datetime
) -> None:
    """A notification failed for good: raise Tocsin's own alert on the fallback channels
    (a silent pager is the worst failure). One open alert per failing channel."""
    if notification.payload.get("origin") == DELIVERY_ORIGIN:
        log.error("the fallback notification %s failed too: %s", notification.id, error)
        return
    channel = notification.channel
    message = f"Notification {notification.id} failed for good: {error}"
    existing = alerts.open_by_fingerprint(session, _delivery_fingerprint(channel))
    if existing is not None:
        alerts.refresh_details(session, existing, now, value=None, message=message)
        return
    new = NewAlert(
        fingerprint=_delivery_fingerprint(channel),
        origin=DELIVERY_ORIGIN,
        labels={"channel": channel, "service": "tocsin"},
        severity="HIGH",
        title=f"Notifications to {channel} are failing",
        message=message,
    )
    try:
        change = alerts.fire(session, new, now)
    except Conflict:
        return
    config = pipeline.config
    fallback = config.notifications.fallback
    channels = fallback if fallback is not None else list(config.channels)
    to = pipeline.router.deliveries([c for c in channels if c != channel])
    _after(session, pipeline, [change], now, to=to)


def delivery_recovered(session: Session, pipeline: Pipeline, channel: str, now: datetime) -> None:
    """A notification went through: resolve the channel's failure alert if one is open, and
    tell those its failure was told to."""
    existing = alerts.open_by_fingerprint(session, _delivery_fingerprint(channel))
    if existing is None:
        return
    change = alerts.resolve(session, existing.id, None, now, "delivered again")
    _after(session, pipeline, [change], now, to=outbox.told(session, existing.id))


def _after(
    session: Session,
    pipeline: Pipeline,
    changes: Sequence[Change],
    now: datetime,
    *,
    to: Sequence[outbox.Delivery] | None = None,
) -> None:
    """What every change of an alert causes besides its own row and timeline entry, in the
    same transaction; the place to add what else must happen whenever an alert changes.
    Its notifications, through the pipeline (noise control, routing, escalation), or
    straight `to` these deliveries for Tocsin's own alerts, which are never screened; then
    the incidents it concerns (`incidents.auto.alerts_changed`: timelines, `incident:
    auto` routes)."""
    if to is None:
        pipeline.dispatch(session, changes, now)
    else:
        pipeline.send(session, changes, to, now)
    incidents.alerts_changed(session, pipeline, changes, now)


def _delivery_fingerprint(channel: str) -> str:
    return fingerprint("tocsin:delivery", {"channel": channel})
