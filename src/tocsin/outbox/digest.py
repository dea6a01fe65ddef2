"""The daily digest: rows parked for it (state `digest`) are collected, once the day's digest
time comes, into one notification per channel and target."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.config.routing import NotificationsConfig
from tocsin.db import is_postgresql
from tocsin.outbox import service as outbox
from tocsin.outbox.models import Notification

BATCH = 5000  # parked rows one pass collects; the rest wait for the next tick


def send_due(session: Session, now: datetime) -> int:
    """Collect parked rows that have come due into one notification per channel and target;
    how many notifications were written."""
    query = (
        select(Notification)
        .where(Notification.state == "digest", Notification.next_attempt_at <= now)
        .order_by(Notification.created_at)
        .limit(BATCH)
    )
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    parked = session.scalars(query).all()
    by_channel: dict[outbox.Delivery, list[Notification]] = {}
    for row in parked:
        by_channel.setdefault((row.channel, row.target), []).append(row)
    for (channel, target), rows in by_channel.items():
        payload = {
            "version": 1,
            "event": "digest",
            "at": now.isoformat(),
            "alerts": [row.payload for row in rows],
        }
        outbox.enqueue_one(session, (channel, target), payload, now)
        for row in rows:
            row.state, row.sent_at = "digested", now
    return len(by_channel)


def next_at(config: NotificationsConfig, now: datetime) -> datetime:
    """The next daily digest time (`notifications.digest_at` in its zone) after `now`."""
    zone = ZoneInfo(config.digest_timezone)
    hour, minute = (int(p) for p in config.digest_at.split(":"))
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour, minute), zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), zone)
    return candidate.astimezone(now.tzinfo)
