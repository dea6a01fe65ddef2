"""Silences: Alertmanager's matchers, a time range, a creator and a comment; optionally
recurring (cron + duration in a zone). The API for the CLI and, later, the HTTP API."""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.config.model import TocsinConfig
from tocsin.errors import Invalid, NotFound
from tocsin.matchers import matches_all
from tocsin.noise.common import (
    SILENCES,
    active_rows,
    check_matchers,
    check_range,
    check_recurrence,
    end_now,
    forget,
    get_row,
    list_rows,
    parsed,
    wake,
)
from tocsin.noise.models import Silence
from tocsin.outbox import service as outbox
from tocsin.outbox.service import Delivery

log = logging.getLogger("tocsin.noise")

# How long before its end a silence tells its creator (once) that it is about to expire.
EXPIRY_WARNING = timedelta(minutes=15)
EXPIRING_EVENT = "silence_expiring"
_NOTICE_IDS = uuid.UUID("3f7d2a90-5c1e-4b8a-a6d4-9e0b7c215f43")


def create_silence(
    session: Session,
    matchers: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
    *,
    now: datetime,
    every: str | None = None,
    duration: timedelta | None = None,
    timezone: str = "UTC",
    silence_id: str | None = None,
) -> Silence:
    """Validate and store a silence; Invalid (nothing written) on any bad input."""
    parsed = check_matchers(matchers)
    if not parsed:
        raise Invalid("a silence needs at least one matcher")
    if all(m.matches({}) for m in parsed):
        # Alertmanager's rule: matchers that all match the empty label would mute everything.
        raise Invalid("at least one matcher must not match an empty label (it would mute all)")
    _check_text(created_by, comment)
    check_range(starts_at, ends_at, now)
    check_recurrence(every, duration, timezone)
    silence = Silence(
        id=silence_id or str(uuid.uuid4()),
        matchers=[str(m) for m in parsed],
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by.strip(),
        comment=comment.strip(),
        created_at=now,
        updated_at=now,
        every=every,
        duration_s=duration.total_seconds() if duration is not None else None,
        timezone=timezone,
        suppressed_count=0,
        rescreen_at=starts_at,  # alerts already firing that it matches are muted then
    )
    session.add(silence)
    session.flush()
    forget(session)
    return silence


def update_silence(
    session: Session,
    silence_id: str,
    matchers: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
    *,
    now: datetime,
) -> Silence:
    """Change a silence as Alertmanager does when a silence is posted with its id.

    1. In place, when the matchers are the same and the times allow it: an active silence
       keeps its start and must not end in the past; a pending one must not start in the
       past. Its id stays and alerts it muted are looked at again (its end may have moved).
    2. Otherwise the old silence is expired (unless it already has) and a new one, with a
       new id, replaces it, starting no earlier than now; a recurrence carries over.

    NotFound if no such silence; Invalid (nothing written) on bad input.
    """
    old = session.get(Silence, silence_id)
    if old is None:
        raise NotFound(f"silence {silence_id} does not exist")
    wanted = sorted(str(m) for m in check_matchers(matchers))
    if can_update_in_place(old, wanted, starts_at, ends_at, now):
        _check_text(created_by, comment)
        check_range(starts_at, ends_at, now)
        if _range_state(old, now) == "pending":  # an active one keeps its start
            old.starts_at = starts_at
            old.rescreen_at = starts_at
        old.ends_at = ends_at
        old.created_by, old.comment = created_by.strip(), comment.strip()
        old.updated_at = now
        old.warned_at = None  # a new end deserves its own expiry notice
        session.flush()
        forget(session)
        wake(session, "silence", old.id, now)
        return old
    recurrence = timedelta(seconds=old.duration_s) if old.duration_s is not None else None
    new = create_silence(
        session,
        wanted,
        max(starts_at, now),
        ends_at,
        created_by,
        comment,
        now=now,
        every=old.every,
        duration=recurrence,
        timezone=old.timezone,
    )
    if _range_state(old, now) != "expired":
        expire_silence(session, old.id, now)
    return new


def can_update_in_place(
    old: Silence, matchers: Sequence[str], starts_at: datetime, ends_at: datetime, now: datetime
) -> bool:
    """Alertmanager's rule for keeping a silence's id on update (`matchers` canonical)."""
    if sorted(str(m) for m in parsed(old.matchers)) != sorted(matchers):
        return False
    state = _range_state(old, now)
    if state == "active":
        # Alertmanager's clients send times to the millisecond: the same start read back
        # and re-sent is the same start.
        return abs(starts_at - old.starts_at) < timedelta(milliseconds=1) and ends_at >= now
    return state == "pending" and starts_at >= now


def _range_state(silence: Silence, now: datetime) -> str:
    """Alertmanager's state of the whole range (a recurring silence between occurrences is
    still active: its series is running)."""
    if now >= silence.ends_at:
        return "expired"
    return "pending" if now < silence.starts_at else "active"


def _check_text(created_by: str, comment: str) -> None:
    if not created_by.strip():
        raise Invalid("a silence needs its creator (--by)")
    if not comment.strip():
        raise Invalid("a silence needs a comment saying why")


def get_silence(session: Session, silence_id: str) -> Silence:
    return get_row(session, SILENCES, silence_id)


def list_silences(
    session: Session, now: datetime, *, include_expired: bool = False
) -> Sequence[Silence]:
    return list_rows(session, SILENCES, now, include_expired)


def expire_silence(session: Session, silence_id: str, now: datetime) -> Silence:
    """End a silence now (a pending one never starts). Conflict if it has already ended."""
    silence = end_now(session, SILENCES, silence_id, now)
    silence.updated_at = now
    return silence


def matching(
    session: Session, labels: dict[str, str], now: datetime
) -> tuple[Silence, datetime] | None:
    """The first silence muting these labels now, and when that occurrence ends."""
    for silence, until in active_rows(session, Silence, now):
        if matches_all(parsed(silence.matchers), labels):
            return silence, until
    return None


def warn_expiring(session: Session, now: datetime) -> list[Silence]:
    """Silences ending within EXPIRY_WARNING, each told once: a log line for the creator
    and `warned_at` set (compare-and-set, so two workers never both warn). Recurring
    silences warn when the whole series ends, not at each occurrence."""
    rows = claims.due(
        session,
        select(Silence).where(
            Silence.warned_at.is_(None),
            Silence.starts_at <= now,
            Silence.ends_at > now,
            Silence.ends_at <= now + EXPIRY_WARNING,
        ),
    )
    warned = []
    for silence in rows:
        if claims.take(
            session,
            Silence,
            Silence.id == silence.id,
            expect=[Silence.warned_at.is_(None)],
            values={"warned_at": now},
        ):
            minutes = max(1, round((silence.ends_at - now).total_seconds() / 60))
            log.warning(
                "silence %s by %s (%s) expires in %d min at %s; extend it or let alerts through",
                silence.id,
                silence.created_by,
                silence.comment,
                minutes,
                silence.ends_at.isoformat(),
            )
            warned.append(silence)
    return warned


def tell_creator(
    session: Session,
    config: TocsinConfig,
    silence: Silence,
    now: datetime,
    creator: Sequence[Delivery] = (),
) -> list[Delivery]:
    """Write the expiry notice to the outbox: to the creator's `creator` deliveries (the
    pipeline finds those of a configured user on the channels that address one person), or,
    when there are none, to the console channels. One row per delivery, with an id derived
    from the silence and its end, so the channel's dedup key is stable. Returns the
    deliveries (none: only the log line)."""
    user = config.users.get(silence.created_by)
    deliveries = list(creator)
    addressed = bool(deliveries)
    if not addressed:
        deliveries = [(n, None) for n, spec in config.channels.items() if spec.type == "console"]
    zone = user.timezone if user is not None else "UTC"
    payload = expiry_payload(silence, now, zone, addressed=addressed)
    for channel, target in deliveries:
        key = f"{silence.id}:{silence.ends_at.isoformat()}:{channel}:{target or ''}"
        row_id = str(uuid.uuid5(_NOTICE_IDS, key))
        outbox.enqueue_one(session, (channel, target), payload, now, row_id=row_id)
    return deliveries


def expiry_payload(
    silence: Silence, now: datetime, timezone: str, *, addressed: bool
) -> dict[str, Any]:
    """The outbox payload of an expiry notice: no alert, a `silence` section, and a title
    and message every channel can show as they are. `addressed`: sent to the creator
    ("you created"), else to a shared console ("created by ana")."""
    ends = silence.ends_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")
    matchers = ", ".join(silence.matchers)
    who = "you created" if addressed else f"created by {silence.created_by}"
    again = " ".join(shlex.quote(m) for m in silence.matchers)
    command = (
        f"tocsin silence add {again} --for 1h --by {shlex.quote(silence.created_by)} "
        f"--comment {shlex.quote(silence.comment)}"
    )
    return {
        "version": 1,
        "event": EXPIRING_EVENT,
        "alert_id": None,
        "at": now.isoformat(),
        "state": "expiring",
        "severity": "INFO",
        "title": f"Silence {silence.id} ends at {ends}",
        "message": (
            f"Silence {silence.id} ({matchers}) {who} ends at {ends}; "
            f"extend it with `{command}` or let it expire."
        ),
        "labels": {},
        "silence": {
            "id": silence.id,
            "matchers": list(silence.matchers),
            "starts_at": silence.starts_at.isoformat(),
            "ends_at": silence.ends_at.isoformat(),
            "created_by": silence.created_by,
            "comment": silence.comment,
        },
    }
