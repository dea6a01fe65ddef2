"""What happens to an alert once noise control muted it (`muted_alert` rows, written by
`screen`): looking at it again when its reason may have ended, telling the timeline a
silence is about to expire, and "why was I (not) paged?" for the CLI and the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin import claims
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.noise import grouping
from tocsin.noise.models import AlertGroupEntry, MutedAlert, Silence
from tocsin.outbox import service as outbox


def wake_inhibited(session: Session, source_id: int, now: datetime) -> None:
    """The alerts `source_id` inhibits are looked at again in the worker's next noise step
    (`recheck_muted`), found by the index on `ref`."""
    session.execute(
        update(MutedAlert)
        .where(MutedAlert.ref == str(source_id), MutedAlert.kind == "inhibition")
        .values(recheck_at=now)
        .execution_options(synchronize_session=False)
    )


def told_channels(session: Session, alert_id: int) -> list[str]:
    """The channels that received (or are sending) a notification that this alert fired."""
    return sorted({channel for channel, _ in outbox.told(session, alert_id, outbox.OF_EVENTS)})


def timeline_note(
    session: Session,
    alert: Alert,
    kind: str,
    now: datetime,
    note: str,
    data: dict[str, object] | None = None,
) -> None:
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=now,
            kind=kind,
            state_from=alert.state,
            state_to=alert.state,
            severity=alert.severity,
            actor=None,
            note=note,
            data=data or {},
        )
    )


@dataclass
class Released:
    """Muted alerts looked at again: the held events to hand back to the pipeline (which
    screens them again: still muted they stay quiet, otherwise they are sent), and how many
    were settled here (released without a notice: acknowledged meanwhile)."""

    held: list[tuple[Alert, AlertEvent]] = field(default_factory=list)
    settled: int = 0


def recheck_muted(session: Session, now: datetime, *, limit: int = 200) -> Released:
    """Muted alerts whose reason may have ended: those still firing are handed back with
    their held event. An alert acknowledged meanwhile has an owner: it is released without
    telling anyone it fires (nor starting its escalation again); a resolved one is
    forgotten."""
    rows = claims.due(
        session,
        select(MutedAlert)
        .where(MutedAlert.recheck_at <= now)
        .order_by(MutedAlert.recheck_at)
        .limit(limit),
    )
    out = Released()
    for muted in rows:
        # Claimed by compare-and-set on the state it was read in (the held event and its
        # recheck time): a worker that lost it leaves it alone, so nobody is told twice.
        if not claims.take(
            session,
            MutedAlert,
            MutedAlert.alert_id == muted.alert_id,
            expect=[
                MutedAlert.event_id == muted.event_id,
                MutedAlert.recheck_at == muted.recheck_at,
            ],
            values={"recheck_at": muted.recheck_at},
        ):
            session.expunge(muted)
            continue
        alert = session.get(Alert, muted.alert_id)
        event = session.get(AlertEvent, muted.event_id)
        if alert is None or event is None or alert.state == "resolved":
            session.delete(muted)
            continue
        if alert.state == "acknowledged":
            session.delete(muted)
            note = (
                f"no longer muted by {muted.kind} {muted.ref}; acknowledged, so nobody is "
                "told it fires again"
            )
            timeline_note(
                session, alert, "released", now, note, {"by": muted.kind, "id": muted.ref}
            )
            out.settled += 1
            continue
        out.held.append((alert, event))
    session.flush()
    return out


def note_expiring(session: Session, silence: Silence, now: datetime) -> None:
    """Put the expiry notice on the timeline of every open alert the silence mutes."""
    muted = session.scalars(
        select(MutedAlert).where(MutedAlert.kind == "silence", MutedAlert.ref == silence.id)
    ).all()
    for row in muted:
        alert = session.get(Alert, row.alert_id)
        if alert is not None:
            timeline_note(
                session,
                alert,
                "silence_expiring",
                now,
                f"silence {silence.id} by {silence.created_by} ends at "
                f"{silence.ends_at.isoformat()}",
                {"silence": silence.id},
            )


_MUTE_NAMES = {
    "silence": "silence",
    "maintenance": "maintenance window",
    "known_issue": "known issue",
    "inhibition": "inhibition",
    "flapping": "flapping",
}


def explain(session: Session, alert: Alert) -> dict[str, Any]:
    """ "Why was I (not) paged?": the decision in force for an alert, as data and a line."""
    muted = session.get(MutedAlert, alert.id)
    group = grouping.group_of(session, alert.id)
    told = told_channels(session, alert.id)
    out: dict[str, Any] = {"told": told, "muted": None, "group": None}
    if muted is not None:
        out["muted"] = {
            "by": muted.kind,
            "id": muted.ref,
            "reason": muted.data.get("reason", ""),
            "since": muted.since,
            "recheck_at": muted.recheck_at,
        }
        why = f"{muted.data.get('reason', muted.kind)} ({muted.kind} {muted.ref})"
        # Muted after it was told (a silence begun while it fired): not "not notified".
        out["summary"] = (
            f"notified on {', '.join(told)} before the {_MUTE_NAMES.get(muted.kind, 'mute')} "
            f"began; muted since: {why}"
            if told
            else f"not notified: {why}"
        )
    elif group is not None:
        flushed = session.scalar(
            select(func.min(AlertGroupEntry.flush_no)).where(
                AlertGroupEntry.alert_id == alert.id, AlertGroupEntry.group_id == group.id
            )
        )
        out["group"] = {
            "id": group.id,
            "labels": group.labels,
            "channels": group.channels,
            "first_flush": flushed,
            "next_flush_at": group.next_flush_at,
        }
        labels = ", ".join(f"{k}={v}" for k, v in group.labels.items())
        out["summary"] = (
            f"notified in flush {flushed} of group {group.id} ({labels})"
            if flushed is not None
            else f"waiting in group {group.id} ({labels}) for its flush at "
            f"{group.next_flush_at.isoformat() if group.next_flush_at else '?'}"
        )
    elif told:
        out["summary"] = f"notified on {', '.join(told)}"
    else:
        last = session.scalar(
            select(AlertEvent.note)
            .where(AlertEvent.alert_id == alert.id, AlertEvent.kind == "suppressed")
            .order_by(AlertEvent.id.desc())
            .limit(1)
        )
        out["summary"] = f"not notified: {last}" if last else "not notified: no channel"
    return out
