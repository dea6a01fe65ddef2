"""Grouping: alerts sharing the grouping labels wait in a group row and go out as ONE
summary notification per flush. The group's `next_flush_at` is the durable timer; a flush
claims it by compare-and-set (SKIP LOCKED on PostgreSQL) and writes its outbox row in the
same transaction, so a worker killed before a flush flushes after restart, exactly once.

Acknowledgements, as Alertmanager users would expect of a group: a member's acknowledgement
is a change of the group like a new or resolved member, so it goes out with the group's
next flush (at most `group_interval` after the previous one, batched with everything else
that changed: acknowledging thirty alerts of a storm is one notice) to the channels the
group told, saying how many and by whom ("Payment processing stopped (3 acknowledged)",
"3 acknowledged by ana."). Acknowledged members get no `repeat_interval` reminders; once
no member fires, the reminders stop and the flush's event is `acknowledged` (PagerDuty
acknowledges the group's incident). The group's lead alert, whose id the notifications
carry as PagerDuty's dedup key, stays the same until the group's final resolution.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.config.noise import GroupingConfig
from tocsin.noise.decide import (
    Occurrence,
    Summary,
    group_key,
    group_labels,
    match_labels,
    next_flush,
    summarise,
)
from tocsin.noise.models import AlertGroup, AlertGroupEntry, MutedAlert
from tocsin.outbox import service as outbox
from tocsin.outbox.payload import payload_for

_STATES = {"fired": "firing", "acknowledged": "acknowledged", "resolved": "resolved"}
_FLUSH_IDS = uuid.UUID("6d0f5b8e-36a4-4d4c-9b7e-2f1c9a8e4b11")


def group_of(session: Session, alert_id: int) -> AlertGroup | None:
    """The group an alert's events went to, if any."""
    group_id = session.scalar(
        select(AlertGroupEntry.group_id).where(AlertGroupEntry.alert_id == alert_id).limit(1)
    )
    return session.get(AlertGroup, group_id) if group_id is not None else None


def hold(
    session: Session,
    spec: GroupingConfig,
    alert: Alert,
    event: AlertEvent,
    channels: Sequence[str],
    now: datetime,
) -> AlertGroup:
    """Put one event in its group (the alert's existing group, else the one its labels and
    channels name) and make sure the group has a flush time."""
    # A just-fired alert has no group yet: skip the look-up (most of a storm's events).
    group = None if event.kind == "fired" else group_of(session, alert.id)
    if group is None:
        labels = group_labels(spec.by, match_labels(alert.labels, alert.check_name, alert.severity))
        group = _get_or_create(session, labels, channels, now)
    session.add(
        AlertGroupEntry(
            group_id=group.id, alert_id=alert.id, event_id=event.id, kind=event.kind, at=now
        )
    )
    timed: set[int] = session.info.setdefault("tocsin.timed_groups", set())
    if group.id in timed:  # this transaction already made sure of the timer
        return group
    when = next_flush(
        now, group.last_flush_at, group_wait=spec.group_wait, group_interval=spec.group_interval
    )
    # Only the first event after a flush sets the timer; later ones ride along with it.
    session.execute(
        update(AlertGroup)
        .where(AlertGroup.id == group.id, AlertGroup.next_flush_at.is_(None))
        .values(next_flush_at=when)
        .execution_options(synchronize_session=False)
    )
    timed.add(group.id)
    return group


def _get_or_create(
    session: Session, labels: dict[str, str], channels: Sequence[str], now: datetime
) -> AlertGroup:
    key = group_key(labels, channels)
    known: dict[str, AlertGroup] = session.info.setdefault("tocsin.groups", {})
    if key in known:
        return known[key]
    found = session.scalar(select(AlertGroup).where(AlertGroup.group_key == key))
    if found is not None:
        known[key] = found
        return found
    group = AlertGroup(
        group_key=key,
        labels=labels,
        channels=sorted(channels),
        created_at=now,
        flush_count=0,
    )
    # What is pending (a batch holds autoflush off) is written first, outside the savepoint:
    # losing the race below must undo only the group.
    session.flush()
    try:
        with session.begin_nested():
            session.add(group)
            session.flush()
    except IntegrityError:  # another worker created it first
        found = session.scalar(select(AlertGroup).where(AlertGroup.group_key == key))
        assert found is not None
        group = found
    known[key] = group
    return group


def flush_due_groups(
    session: Session,
    now: datetime,
    spec: GroupingConfig | None = None,
    *,
    limit: int = 100,
) -> int:
    """Flush every group whose timer is due (or whose reminder is): one summary row per
    group and channel in the outbox. Returns how many groups were flushed."""
    spec = spec or GroupingConfig()
    # One indexed look-up per timer: `next_flush_at <= now OR repeat_at <= now` ordered by
    # id reads every group (SQLite scans the table), each tick of an idle worker.
    due = union(
        select(AlertGroup.id).where(AlertGroup.next_flush_at <= now),
        select(AlertGroup.id).where(AlertGroup.repeat_at <= now),
    )
    query = select(AlertGroup).where(AlertGroup.id.in_(due)).order_by(AlertGroup.id).limit(limit)
    flushed = 0
    for group in claims.due(session, query):
        flushed += _flush(session, group, now, spec)
    return flushed


def _flush(session: Session, group: AlertGroup, now: datetime, spec: GroupingConfig) -> int:
    number = group.flush_count + 1
    # Claim: whoever moves flush_count on first owns this flush; everyone else skips it.
    if not claims.take(
        session,
        AlertGroup,
        AlertGroup.id == group.id,
        expect=[AlertGroup.flush_count == group.flush_count],
        values={"flush_count": number},
    ):
        return 0
    pending = session.execute(
        select(AlertGroupEntry, Alert, AlertEvent.actor, AlertEvent.data)
        .join(Alert, Alert.id == AlertGroupEntry.alert_id)
        .outerjoin(AlertEvent, AlertEvent.id == AlertGroupEntry.event_id)
        .where(AlertGroupEntry.group_id == group.id, AlertGroupEntry.flush_no.is_(None))
        .order_by(AlertGroupEntry.id)
    ).all()
    members = _open_members(session, group.id, now)
    open_ids = members["firing"]
    if pending:
        occurrences = [
            _occurrence(entry, alert, actor, bool((data or {}).get("flapping")))
            for entry, alert, actor, data in pending
        ]
        session.execute(
            update(AlertGroupEntry)
            .where(AlertGroupEntry.id.in_([entry.id for entry, *_ in pending]))
            .values(flush_no=number)
            .execution_options(synchronize_session=False)
        )
        summary = summarise(occurrences, len(open_ids), len(members["acknowledged"]))
    elif open_ids:  # a reminder: nothing new, members still fire
        summary = _reminder(session, open_ids)
    else:
        summary = None
    # The lead (whose id is the PagerDuty dedup key) stays while any member is open and
    # for the group's final resolution, so the incident it opened is the one resolved.
    still_open = sorted(open_ids + members["acknowledged"])
    lead_id = group.lead_alert_id
    if lead_id is None or (still_open and lead_id not in still_open):
        lead_id = (still_open[0] if still_open else None) or (pending[0][1].id if pending else None)
    if summary is not None and lead_id is not None:
        lead = session.get(Alert, lead_id)
        assert lead is not None
        _write_notifications(session, group, number, lead, summary, now)
    session.execute(
        update(AlertGroup)
        .where(AlertGroup.id == group.id)
        .values(
            next_flush_at=None,
            last_flush_at=now,
            repeat_at=now + spec.repeat_interval if open_ids else None,
            lead_alert_id=lead_id if still_open else None,
        )
        .execution_options(synchronize_session=False)
    )
    return 1


def _open_members(session: Session, group_id: int, now: datetime) -> dict[str, list[int]]:
    """The group's open alerts by state: `firing` ones are reminded, `acknowledged` ones
    are not (someone is on it) but keep the group, and its lead, open. Members muted since
    (a silence begun while they fired) are left out until released."""
    muted = exists().where(
        MutedAlert.alert_id == Alert.id,
        or_(MutedAlert.recheck_at.is_(None), MutedAlert.recheck_at > now),
    )
    rows = session.execute(
        select(Alert.id, Alert.state)
        .where(
            Alert.id.in_(
                select(AlertGroupEntry.alert_id).where(AlertGroupEntry.group_id == group_id)
            ),
            Alert.state.in_(("firing", "acknowledged")),
            ~muted,
        )
        .order_by(Alert.id)
    ).all()
    out: dict[str, list[int]] = {"firing": [], "acknowledged": []}
    for alert_id, state in rows:
        out[state].append(alert_id)
    return out


def _occurrence(
    entry: AlertGroupEntry, alert: Alert, actor: str | None, flapping: bool = False
) -> Occurrence:
    return Occurrence(
        alert.id,
        entry.kind,
        entry.at,
        alert.title,
        alert.message,
        alert.severity,
        alert.labels,
        actor,
        flapping,
    )


def _reminder(session: Session, open_ids: list[int]) -> Summary:
    rows = session.scalars(select(Alert).where(Alert.id.in_(open_ids[:3]))).all()
    occurrences = [
        Occurrence(a.id, "fired", a.started_at, a.title, a.message, a.severity, a.labels)
        for a in rows
    ]
    summary = summarise(occurrences, len(open_ids))
    title = f"Still firing: {occurrences[0].title} ({len(open_ids)} open)"
    return Summary(
        "fired",
        title,
        summary.message,
        summary.severity,
        len(open_ids),
        summary.first_at,
        summary.latest_at,
        summary.samples,
    )


def _write_notifications(
    session: Session, group: AlertGroup, number: int, lead: Alert, summary: Summary, now: datetime
) -> None:
    payload = payload_for_group(group, number, lead, summary)
    for channel in group.channels:
        # A stable id per (group, flush, channel): even a duplicated flush could not
        # write a second row, and the channel's dedup key stays the same across retries.
        row_id = str(uuid.uuid5(_FLUSH_IDS, f"{group.id}:{number}:{channel}"))
        outbox.enqueue_one(session, (channel, None), payload, now, row_id=row_id, alert_id=lead.id)


def payload_for_group(
    group: AlertGroup, number: int, lead: Alert, summary: Summary
) -> dict[str, object]:
    """The outbox payload channels already understand (an alert's), with the summary as
    title and message and a `group` section the richer channels may show."""
    fake_event = AlertEvent(
        id=None, kind=summary.event, at=summary.latest_at, actor=None, note=None
    )
    payload = payload_for(lead, fake_event)
    payload |= {
        "title": summary.title,
        "message": summary.message,
        "severity": summary.severity,
        "state": _STATES[summary.event],
        "group": {
            "id": group.id,
            "flush": number,
            "labels": group.labels,
            "count": summary.count,
            "first_occurrence": summary.first_at.isoformat(),
            "latest_occurrence": summary.latest_at.isoformat(),
            "samples": list(summary.samples),
        },
    }
    return payload
