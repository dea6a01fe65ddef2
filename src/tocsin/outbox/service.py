"""Outbox rows: write notifications with the transition that causes them, claim due rows,
record outcomes. Sending happens outside any transaction (the worker does it)."""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy import insert as sql_insert
from sqlalchemy.orm import Session, aliased

from tocsin import claims
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.db import is_postgresql
from tocsin.outbox.doorbell import written
from tocsin.outbox.models import Notification
from tocsin.outbox.payload import Message, payload_for

log = logging.getLogger("tocsin.outbox")

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)


_ID_LOCK = threading.Lock()
_LAST_ID = [0, 0]  # (millisecond, counter) of the last id made in this process


def ordered_id() -> str:
    """A UUIDv7 (RFC 9562): milliseconds, a counter, random bits. Ids made later in this
    process sort after earlier ones, so rows written in one transaction (same `created_at`)
    are claimed in the order they were written; across processes they are as unique as a
    random UUID."""
    ms = time.time_ns() // 1_000_000
    with _ID_LOCK:
        last_ms, counter = _LAST_ID
        if ms > last_ms:
            counter = 0
        else:
            ms, counter = last_ms, counter + 1
            if counter > 0xFFF:  # 4,096 in one millisecond: borrow the next one
                ms, counter = ms + 1, 0
        _LAST_ID[:] = [ms, counter]
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


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
            "id": ordered_id(),
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


def enqueue_one(
    session: Session,
    delivery: Delivery,
    payload: dict[str, Any],
    now: datetime,
    *,
    row_id: str | None = None,
    alert_id: int | None = None,
) -> Notification:
    """One row due at once that no single alert event caused: a digest, a group's flush, a
    silence's expiry notice. A caller that can derive a stable `row_id` gives it: a
    duplicated write then fails instead of adding a second row, and the channel's dedup key
    stays the same across retries."""
    channel, target = delivery
    row = Notification(
        id=row_id or ordered_id(),
        alert_id=alert_id,
        event_id=None,
        channel=channel,
        target=target,
        payload=payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    written(session)
    return row


# Which rows `told` counts. An acknowledgement or a resolution goes to everyone a row was
# sent or is due to (not rows parked for a digest, which has not gone out); whether anyone was
# told an alert fired counts rows written for its events, parked or not (not a group's flush,
# which speaks for the group).
NOT_PARKED: ColumnElement[bool] = Notification.state != "digest"
OF_EVENTS: ColumnElement[bool] = Notification.event_id.is_not(None)


def told(
    session: Session, alert_id: int, counting: ColumnElement[bool] = NOT_PARKED
) -> list[Delivery]:
    """Every (channel, target) this alert has a row for that `counting` accepts, in
    first-told order."""
    rows = session.execute(
        select(Notification.channel, Notification.target)
        .where(Notification.alert_id == alert_id, counting)
        .order_by(Notification.created_at, Notification.channel)
    ).all()
    seen: dict[Delivery, None] = {}
    for channel, target in rows:
        seen.setdefault((channel, target), None)
    return list(seen)


CLAIM_LIMIT = 100  # rows one claim takes: also the most a crash can leave sent but unrecorded


def claim_due(
    session: Session,
    now: datetime,
    *,
    limit: int = CLAIM_LIMIT,
    lease: timedelta = timedelta(seconds=15),
    owner: str | None = None,
    took_over: list[str] | None = None,
) -> list[Message]:
    """Take due rows for sending: `sending` rows whose lease ran out (a sender crashed),
    then pending rows, oldest due first. The caller commits before sending; the lease keeps
    other workers off the rows meanwhile.

    A lane (one alert, one channel, one target) goes in event order: a row waits while an
    earlier one of its lane is unsent, so a `resolve` never overtakes a `trigger` that is
    being retried (PagerDuty would open an incident nothing resolves). Pending rows are read
    in the order of `ix_notification_due` (state, next_attempt_at, id), so a claim reads as
    many rows as it takes plus those it skips, however long the backlog.

    Two workers never both take a row: on SQLite the transaction holds the one write lock
    from its start (`BEGIN IMMEDIATE`), on PostgreSQL the reads lock the rows they return
    (`FOR UPDATE SKIP LOCKED`, so workers do not queue behind each other either). The final
    `UPDATE … RETURNING` therefore names rows by id alone: repeating the due test there made
    SQLite walk the whole backlog by state instead of looking up 100 ids."""
    expired = (Notification.state == "sending") & (Notification.lease_until <= now)
    pending = (Notification.state == "pending") & (Notification.next_attempt_at <= now)
    earlier = aliased(Notification)
    blocked = (
        select(earlier.id)
        .where(
            earlier.alert_id == Notification.alert_id,
            earlier.channel == Notification.channel,
            earlier.target.is_not_distinct_from(Notification.target),
            earlier.event_id < Notification.event_id,
            earlier.state.in_(("pending", "sending")),
        )
        .exists()
    )
    reads = [
        select(Notification.id).where(expired).limit(limit),
        select(Notification.id)
        .where(pending, ~blocked)
        .order_by(Notification.next_attempt_at, Notification.id),
    ]
    ids: list[str] = []
    for read in reads:
        if len(ids) >= limit:
            break
        ids.extend(claims.due(session, read.limit(limit - len(ids))))
        if took_over is not None and read is reads[0]:
            took_over.extend(ids)  # their sender died mid-send: sent again (redelivered)
    if not ids:
        return []
    # The compare-and-set repeats the due test on PostgreSQL, where the ids are looked up
    # by key; on SQLite it made the planner walk the backlog by state, and the transaction
    # holds the one writer anyway.
    still_due = [expired | pending] if is_postgresql(session) else []
    rows = list(
        session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), *still_due)
            .values(
                state="sending",
                lease_until=now + lease,
                lease_owner=owner,
                attempts=Notification.attempts + 1,
            )
            .returning(
                Notification.id,
                Notification.channel,
                Notification.target,
                Notification.payload,
                Notification.next_attempt_at,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if len(rows) < len(ids):  # taken by another worker between the read and the update
        log.debug("claimed %d of %d due notifications", len(rows), len(ids))
    rows.sort(key=lambda row: (row.next_attempt_at, row.id))
    return [Message(row.id, row.channel, row.target, row.payload) for row in rows]


def renew(session: Session, owner: str, now: datetime, lease: timedelta) -> int:
    """Extend the leases `owner` still holds (rows it is sending); how many."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.state == "sending",
            Notification.lease_owner == owner,
            Notification.lease_until > now,
        )
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def hand_back(session: Session, owner: str) -> int:
    """A graceful stop: rows `owner` claimed and did not send are due again at once, for
    another instance (their attempt is not counted)."""
    result = session.execute(
        update(Notification)
        .where(Notification.state == "sending", Notification.lease_owner == owner)
        .values(
            state="pending",
            lease_until=None,
            lease_owner=None,
            attempts=Notification.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, notification_ids: Sequence[str], now: datetime) -> None:
    """Record deliveries that went through (rows no longer `sending` are left alone: a lease
    that ran out and another worker that took over already decided them)."""
    if not notification_ids:
        return
    session.execute(
        update(Notification)
        .where(Notification.id.in_(notification_ids), Notification.state == "sending")
        .values(state="sent", sent_at=now, lease_until=None, lease_owner=None, last_error=None)
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
        .values(
            state=state,
            next_attempt_at=next_at,
            last_error=error[:2000],
            lease_until=None,
            lease_owner=None,
        )
        .execution_options(synchronize_session=False)
    )
    return state


def for_alert(session: Session, alert_id: int) -> Sequence[Notification]:
    return session.scalars(
        select(Notification)
        .where(Notification.alert_id == alert_id)
        .order_by(Notification.created_at, Notification.channel)
    ).all()
