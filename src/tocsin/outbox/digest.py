"""The daily digest: rows parked for it (state `digest`) are collected, once the day's digest
time comes, into one notification per channel and target."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import claims, periodic
from tocsin.config.routing import NotificationsConfig
from tocsin.outbox import service as outbox
from tocsin.outbox.models import Notification

SLOTS = 10  # digest times one pass looks at; more wait for the next tick


def send_due(session: Session, now: datetime) -> int:
    """Collect parked rows that have come due into one notification per channel and target;
    how many notifications were written. Each digest time is a job slot (`periodic.once`):
    one instance builds the whole digest of that time, every row parked for it, so two
    instances never split one day's digest in two."""
    slots = session.scalars(
        select(Notification.next_attempt_at)
        .where(Notification.state == "digest", Notification.next_attempt_at <= now)
        .group_by(Notification.next_attempt_at)
        .order_by(Notification.next_attempt_at)
        .limit(SLOTS)
    ).all()
    return sum(
        _send_slot(session, slot, now)
        for slot in slots
        if periodic.once(session, "digest", slot, now)
    )


def _send_slot(session: Session, slot: datetime, now: datetime) -> int:
    parked = session.scalars(
        select(Notification)
        .where(Notification.state == "digest", Notification.next_attempt_at == slot)
        .order_by(Notification.created_at)
    ).all()
    taken = claims.take_many(
        session,
        Notification,
        Notification.id,
        [row.id for row in parked],
        expect=[Notification.state == "digest"],
        values={"state": "digested", "sent_at": now},
    )
    by_channel: dict[outbox.Delivery, list[Notification]] = {}
    for row in parked:
        if row.id in taken:
            by_channel.setdefault((row.channel, row.target), []).append(row)
    for (channel, target), rows in by_channel.items():
        payload = {
            "version": 1,
            "event": "digest",
            "at": now.isoformat(),
            "alerts": [row.payload for row in rows],
        }
        outbox.enqueue_one(session, (channel, target), payload, now)
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
