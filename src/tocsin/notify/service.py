"""The outbox: write notifications with the transition that causes them, claim due rows,
record outcomes. Sending happens outside any transaction (the worker does it)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert as sql_insert
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.db import is_postgresql
from tocsin.notify.doorbell import written
from tocsin.notify.models import Notification

NOTIFY_KINDS = ("fired", "severity_changed", "acknowledged", "resolved")
MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)


def payload_for(alert: Alert, event: AlertEvent) -> dict[str, Any]:
    return {
        "version": 1,
        "alert_id": alert.id,
        "fingerprint": alert.fingerprint,
        "event": event.kind,
        "event_id": event.id,
        "at": event.at.isoformat(),
        "state": alert.state,
        "severity": alert.severity,
        "title": alert.title,
        "message": alert.message,
        "value": alert.value,
        "labels": alert.labels,
        "check": alert.check_name,
        "origin": alert.origin,
        "runbook": alert.runbook,
        "actor": event.actor,
        "note": event.note,
    }


Delivery = tuple[str, str | None]  # (channel, target): a target is an address or None


def enqueue(
    session: Session,
    alert: Alert,
    event: AlertEvent,
    deliveries: Iterable[Delivery],
    now: datetime,
    *,
    kind: str | None = None,
    extra: dict[str, Any] | None = None,
    digest_at: datetime | None = None,
) -> list[Notification]:
    """One row per delivery, in the caller's transaction, due at once — or, with
    `digest_at`, parked until that day's digest collects it. `kind` overrides the event kind
    channels see (an escalation step re-sends the alert as `fired`)."""
    rows = [
        Notification(**row)
        for row in rows_for(
            alert, event, deliveries, now, kind=kind, extra=extra, digest_at=digest_at
        )
    ]
    session.add_all(rows)
    if rows and digest_at is None:
        written(session)
    return rows


def rows_for(
    alert: Alert,
    event: AlertEvent,
    deliveries: Iterable[Delivery],
    now: datetime,
    *,
    kind: str | None = None,
    extra: dict[str, Any] | None = None,
    digest_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """`enqueue`'s rows as column values, not yet written: a batch of transitions collects
    them and writes them all with `insert`."""
    payload = payload_for(alert, event)
    if kind is not None:
        payload["event"] = kind
    if extra:
        payload.update(extra)
    return [
        {
            "id": str(uuid.uuid4()),
            "alert_id": alert.id,
            "event_id": event.id,
            "channel": channel,
            "target": target,
            "payload": payload,
            "state": "digest" if digest_at is not None else "pending",
            "attempts": 0,
            "next_attempt_at": digest_at or now,
            "created_at": now,
        }
        for channel, target in deliveries
    ]


def insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write rows from `rows_for` in one statement (executemany); rings the doorbell at
    commit when any is due now."""
    if not rows:
        return
    session.execute(sql_insert(Notification), list(rows))
    if any(row["state"] == "pending" for row in rows):
        written(session)


def enqueue_digest(
    session: Session,
    channel: str,
    target: str | None,
    payloads: Sequence[dict[str, Any]],
    now: datetime,
) -> Notification:
    """One digest notification (no single alert) carrying the parked alerts' payloads."""
    row = Notification(
        id=str(uuid.uuid4()),
        alert_id=None,
        event_id=None,
        channel=channel,
        target=target,
        payload={"version": 1, "event": "digest", "at": now.isoformat(), "alerts": list(payloads)},
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    written(session)
    return row


def told(session: Session, alert_id: int) -> list[Delivery]:
    """Every (channel, target) this alert has been sent to or is being sent to, in first-told
    order: those are the people an acknowledgement or a resolution must reach."""
    rows = session.execute(
        select(Notification.channel, Notification.target)
        .where(Notification.alert_id == alert_id, Notification.state != "digest")
        .order_by(Notification.created_at, Notification.channel)
    ).all()
    seen: dict[Delivery, None] = {}
    for channel, target in rows:
        seen.setdefault((channel, target), None)
    return list(seen)


def claim_due(
    session: Session, now: datetime, *, limit: int = 50, lease: timedelta = timedelta(minutes=2)
) -> list[Notification]:
    """Take due rows (pending, or `sending` whose lease ran out after a crash) for sending.
    The caller commits before sending; the lease keeps other workers off them meanwhile."""
    due = ((Notification.state == "pending") & (Notification.next_attempt_at <= now)) | (
        (Notification.state == "sending") & (Notification.lease_until <= now)
    )
    query = select(Notification).where(due).order_by(Notification.next_attempt_at).limit(limit)
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for row in session.scalars(query).all():
        result = session.execute(
            update(Notification)
            .where(
                Notification.id == row.id,
                Notification.state == row.state,
                Notification.attempts == row.attempts,
            )
            .values(state="sending", lease_until=now + lease, attempts=row.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(row)
            claimed.append(row)
    return claimed


def mark_sent(session: Session, notification_id: str, now: datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == "sending")
        .values(state="sent", sent_at=now, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


def mark_failed(
    session: Session,
    notification_id: str,
    now: datetime,
    error: str,
    *,
    permanent: bool,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> str:
    """Record a failure; retry with exponential backoff and jitter unless permanent or
    out of attempts. Returns the new state."""
    row = session.get(Notification, notification_id)
    if row is None or row.state != "sending":
        return row.state if row else "missing"
    if permanent or row.attempts >= MAX_ATTEMPTS:
        state, next_at = "failed", row.next_attempt_at
    else:
        backoff = min(BASE_BACKOFF * 2 ** (row.attempts - 1), MAX_BACKOFF)
        jitter = (rng or random).uniform(0.8, 1.2)
        delay = max(backoff * jitter, retry_after or timedelta(0))
        state, next_at = "pending", now + delay
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == "sending")
        .values(state=state, next_attempt_at=next_at, last_error=error[:2000], lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return state


def for_alert(session: Session, alert_id: int) -> Sequence[Notification]:
    return session.scalars(
        select(Notification)
        .where(Notification.alert_id == alert_id)
        .order_by(Notification.created_at, Notification.channel)
    ).all()
