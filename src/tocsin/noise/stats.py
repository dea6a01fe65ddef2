"""Alert-fatigue figures for the reference's goals (false positives under 5 %, MTTA), per
check and overall: notifications per day, alerts that resolved on their own quickly (nobody
needed to act), acknowledgements marked as noise, MTTA, and what noise control muted."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.errors import Conflict
from tocsin.outbox.models import Notification

OVERALL = "(all)"


@dataclass
class Figures:
    check: str
    alerts: int = 0
    notifications: int = 0
    notifications_per_day: float = 0.0
    resolved_unacknowledged_quickly: int = 0
    marked_noise: int = 0
    acknowledged: int = 0
    mtta_seconds: float | None = None
    suppressed: dict[str, int] = field(default_factory=dict)
    # Alerts nobody needed (resolved on their own quickly, or acknowledged as noise) over
    # all alerts: the reference's "false positive rate", to bring under 5 %.
    noise_ratio: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mark_noise(
    session: Session, alert_id: int, by: str, now: datetime, note: str | None = None
) -> AlertEvent:
    """Record that the responder judged this alert noise (`tocsin alerts ack --noise`)."""
    alert = alerts.get(session, alert_id)
    marked = session.scalar(
        select(func.count())
        .select_from(AlertEvent)
        .where(AlertEvent.alert_id == alert_id, AlertEvent.kind == "marked_noise")
    )
    if marked:
        raise Conflict(f"alert {alert_id} is already marked as noise")
    event = AlertEvent(
        alert_id=alert.id,
        at=now,
        kind="marked_noise",
        state_from=alert.state,
        state_to=alert.state,
        severity=alert.severity,
        actor=by,
        note=note or "acknowledged as noise",
        data={},
    )
    session.add(event)
    session.flush()
    return event


def noise_stats(
    session: Session, since: datetime, now: datetime, *, quick: timedelta = timedelta(minutes=5)
) -> list[Figures]:
    """Figures for alerts that started since `since`, overall first, then per check."""
    rows = session.execute(
        select(
            Alert.id, Alert.check_name, Alert.started_at, Alert.acknowledged_at, Alert.resolved_at
        ).where(Alert.started_at >= since)
    ).all()
    by_check: dict[str, Figures] = defaultdict(lambda: Figures(""))
    check_of: dict[int, str] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        name = row.check_name or "(inbound)"
        check_of[row.id] = name
        for key in (OVERALL, name):
            figures = by_check[key]
            figures.alerts += 1
            if row.acknowledged_at is not None:
                figures.acknowledged += 1
                waits[key].append((row.acknowledged_at - row.started_at).total_seconds())
            elif row.resolved_at is not None and row.resolved_at - row.started_at <= quick:
                figures.resolved_unacknowledged_quickly += 1
    sent = session.execute(
        select(Notification.alert_id, func.count())
        .where(Notification.created_at >= since)
        .group_by(Notification.alert_id)
    ).all()
    events = session.execute(
        select(AlertEvent.alert_id, AlertEvent.kind, AlertEvent.data).where(
            AlertEvent.at >= since, AlertEvent.kind.in_(("marked_noise", "suppressed"))
        )
    ).all()
    suppressed: dict[str, Counter[str]] = defaultdict(Counter)
    for alert_id, count in sent:
        owner = "(digests)" if alert_id is None else check_of.get(alert_id, "(earlier alerts)")
        for key in (OVERALL, owner):
            by_check[key].notifications += count
    for alert_id, kind, data in events:
        for key in (OVERALL, check_of.get(alert_id, "(earlier alerts)")):
            if kind == "marked_noise":
                by_check[key].marked_noise += 1
            else:
                suppressed[key][str(data.get("by"))] += 1
    days = max((now - since) / timedelta(days=1), 1 / 24)
    out = []
    for key, figures in by_check.items():
        figures.check = key
        figures.notifications_per_day = round(figures.notifications / days, 2)
        if waits[key]:
            figures.mtta_seconds = round(sum(waits[key]) / len(waits[key]), 1)
        figures.suppressed = dict(sorted(suppressed[key].items()))
        if figures.alerts:
            needless = figures.resolved_unacknowledged_quickly + figures.marked_noise
            figures.noise_ratio = round(needless / figures.alerts, 4)
    out = sorted(by_check.values(), key=lambda f: (f.check != OVERALL, f.check))
    return out
