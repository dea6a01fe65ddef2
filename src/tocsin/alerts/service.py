"""Alert state changes over a session. Each is a compare-and-set plus a timeline row, in the
caller's transaction; none commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.alerts.lifecycle import OPEN, next_state
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.errors import Conflict, NotFound

Change = tuple[Alert, AlertEvent]  # an alert as a transition left it, and the transition's row


def is_open() -> ColumnElement[bool]:
    """An open alert (firing or acknowledged), said as the partial indexes' own predicate
    with a literal: SQLite uses a partial index only when the query names its constant (a
    bound parameter does not count), and with `state IN ('firing', 'acknowledged')` it
    walks `ix_alert_state_severity`, every open alert, instead. Use it where the fingerprint
    (`uq_alert_open_fingerprint`) or `ends_at` (`ix_alert_open_ends_at`) should lead."""
    return Alert.state != literal_column("'resolved'")


def get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return alert


def list_(
    session: Session,
    *,
    state: str | None = None,
    check_name: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[Alert]:
    """Newest first; `before_id` continues a listing after the last alert it showed."""
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Alert.id < before_id)
    if state == "open":
        query = query.where(Alert.state.in_(OPEN))
    elif state is not None:
        query = query.where(Alert.state == state)
    if check_name is not None:
        query = query.where(Alert.check_name == check_name)
    return session.scalars(query).all()


def timeline(session: Session, alert_id: int) -> Sequence[AlertEvent]:
    return session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    ).all()


class OpenAlert(NamedTuple):
    """What an evaluation needs of an open alert: a plain row, not an ORM object (a check may
    hold thousands of open alerts, and whole objects cost several times the memory)."""

    id: int
    severity: str
    value: float | None
    message: str


def open_for_checks(
    session: Session, check_names: Collection[str]
) -> dict[str, dict[str, dict[str, OpenAlert]]]:
    """Open alerts of several checks in one query, by check, origin, then fingerprint; a check
    with none is absent."""
    if not check_names:
        return {}
    rows = session.execute(
        select(
            Alert.check_name,
            Alert.origin,
            Alert.fingerprint,
            Alert.id,
            Alert.severity,
            Alert.value,
            Alert.message,
        ).where(Alert.check_name.in_(list(check_names)), Alert.state.in_(OPEN))
    )
    out: dict[str, dict[str, dict[str, OpenAlert]]] = {}
    for check_name, origin, fp, alert_id, severity, value, message in rows:
        assert check_name is not None  # the query asked for these checks' alerts
        open_alert = OpenAlert(alert_id, severity, value, message)
        out.setdefault(check_name, {}).setdefault(origin, {})[fp] = open_alert
    return out


def new_event(
    alert: Alert,
    kind: str,
    now: datetime,
    *,
    state_from: str | None,
    actor: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> AlertEvent:
    """A timeline row for the alert as it is now, not yet added: a caller writing many adds
    them and flushes once."""
    return AlertEvent(
        alert_id=alert.id,
        at=now,
        kind=kind,
        state_from=state_from,
        state_to=alert.state,
        severity=alert.severity,
        actor=actor,
        note=note,
        data=data or {},
    )


def _event(
    session: Session,
    alert: Alert,
    kind: str,
    now: datetime,
    *,
    state_from: str | None,
    actor: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> AlertEvent:
    event = new_event(alert, kind, now, state_from=state_from, actor=actor, note=note, data=data)
    session.add(event)
    session.flush()
    return event


# Not frozen: an inbound batch makes one per new alert, and a frozen one's __init__ costs
# 3.9 µs against 0.8.
@dataclass(kw_only=True, slots=True)
class NewAlert:
    """An alert to open: what its check, or the tool that sent it, says about it."""

    fingerprint: str
    origin: str
    check_name: str | None = None
    labels: dict[str, str]
    severity: str
    title: str
    message: str
    value: float | None = None
    runbook: str | None = None
    source: str | None = None
    details: dict[str, Any] | None = None
    ends_at: datetime | None = None


def fire(session: Session, new: NewAlert, now: datetime) -> Change:
    """Open a new alert. Conflict if one is already open for this fingerprint (another
    worker won the race: the partial unique index is the compare-and-set)."""
    previous = session.scalar(
        select(Alert.id)
        .where(Alert.fingerprint == new.fingerprint, Alert.state == "resolved")
        .order_by(Alert.id.desc())
        .limit(1)
    )
    alert = Alert(**_columns(new, now, previous))
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        raise Conflict(f"an alert is already open for fingerprint {new.fingerprint}") from None
    note = f"fires again (previous alert {previous})" if previous else None
    return alert, _event(
        session,
        alert,
        "fired",
        now,
        state_from=None,
        note=note,
        data={"value": new.value, "message": new.message},
    )


def _columns(new: NewAlert, now: datetime, previous_id: int | None) -> dict[str, Any]:
    return {
        "fingerprint": new.fingerprint,
        "origin": new.origin,
        "check_name": new.check_name,
        "labels": new.labels,
        "severity": new.severity,
        "state": "firing",
        "title": new.title,
        "message": new.message,
        "value": new.value,
        "runbook": new.runbook,
        "started_at": now,
        "updated_at": now,
        "previous_id": previous_id,
        "source": new.source,
        "details": new.details,
        "ends_at": new.ends_at,
    }


def fire_many(session: Session, new: Sequence[NewAlert], now: datetime) -> list[Change]:
    """Open alerts for fingerprints the caller found closed (under its locks), one INSERT
    for the alerts and one for their `fired` rows (data: the message and the sender), in
    the order given. Each fingerprint at most once; one opened meanwhile by someone else
    fails the INSERT (the partial unique index), rolling the caller's transaction back."""
    if not new:
        return []
    previous = dict(
        session.execute(
            select(Alert.fingerprint, func.max(Alert.id))
            .where(Alert.fingerprint.in_([n.fingerprint for n in new]))
            .group_by(Alert.fingerprint)
        ).all()
    )
    rows = [_columns(n, now, previous.get(n.fingerprint)) for n in new]
    # RETURNING in any order, put back in the batch's by fingerprint (one new alert each):
    # asking the backend for parameter order makes SQLite insert one row per statement.
    returned = {a.fingerprint: a for a in session.scalars(insert(Alert).returning(Alert), rows)}
    created = [returned[n.fingerprint] for n in new]
    fired_by_alert = {
        e.alert_id: e
        for e in session.scalars(
            insert(AlertEvent).returning(AlertEvent),
            [
                {
                    "alert_id": a.id,
                    "at": now,
                    "kind": "fired",
                    "state_from": None,
                    "state_to": "firing",
                    "severity": a.severity,
                    "actor": None,
                    "note": f"fires again (previous alert {a.previous_id})"
                    if a.previous_id
                    else None,
                    "data": {"message": a.message, "source": a.source},
                }
                for a in created
            ],
        )
    }
    return [(a, fired_by_alert[a.id]) for a in created]


def change_severity(
    session: Session,
    alert: Alert,
    severity: str,
    now: datetime,
    *,
    value: float | None = None,
    message: str | None = None,
) -> AlertEvent:
    old = alert.severity
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.state.in_(OPEN), Alert.severity == old)
        .values(
            severity=severity,
            updated_at=now,
            value=value,
            message=message if message is not None else alert.message,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"alert {alert.id} changed while its severity was being updated")
    session.refresh(alert)
    return _event(
        session,
        alert,
        "severity_changed",
        now,
        state_from=alert.state,
        note=f"{old} → {severity}",
        data={"from": old, "to": severity, "value": value},
    )


def refresh_details(
    session: Session, alert: Alert | OpenAlert, now: datetime, *, value: float | None, message: str
) -> None:
    """Keep the latest value and message on an open alert without adding to its timeline;
    writes nothing when neither changed (most evaluations of a long-open alert)."""
    if alert.value == value and alert.message == message:
        return
    session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.state.in_(OPEN))
        .values(value=value, message=message, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def acknowledge(
    session: Session, alert_id: int, by: str, now: datetime, note: str | None = None
) -> Change:
    return _move(session, alert_id, "acknowledge", by, now, note)


def resolve(
    session: Session, alert_id: int, by: str | None, now: datetime, note: str | None = None
) -> Change:
    return _move(session, alert_id, "resolve", by, now, note)


def _move(
    session: Session, alert_id: int, action: str, by: str | None, now: datetime, note: str | None
) -> Change:
    alert = get(session, alert_id)
    state_from = alert.state
    try:
        state_to = next_state(state_from, action)
    except Conflict:
        by_whom = f" by {alert.acknowledged_by}" if state_from == "acknowledged" else ""
        raise Conflict(f"cannot {action} alert {alert_id}: it is {state_from}{by_whom}") from None
    values: dict[str, Any] = {"state": state_to, "updated_at": now}
    if action == "acknowledge":
        values |= {"acknowledged_at": now, "acknowledged_by": by}
    else:
        values |= {"resolved_at": now, "resolved_by": by}
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.state == state_from)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(alert)
        raise Conflict(f"cannot {action} alert {alert_id}: it is now {alert.state}")
    session.refresh(alert)
    kind = "acknowledged" if action == "acknowledge" else "resolved"
    return alert, _event(session, alert, kind, now, state_from=state_from, actor=by, note=note)


def add_event(
    session: Session,
    alert: Alert,
    kind: str,
    now: datetime,
    *,
    actor: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> AlertEvent:
    """A timeline entry that is not a transition (an escalation step, a suppression)."""
    return _event(
        session, alert, kind, now, state_from=alert.state, actor=actor, note=note, data=data
    )


def open_by_fingerprint(session: Session, fp: str) -> Alert | None:
    return session.scalar(select(Alert).where(Alert.fingerprint == fp, Alert.state.in_(OPEN)))
