"""How a notification is shown, and the alert detail (the alert, its timeline and who was
told), built once for `GET /api/v1/alerts/{id}` and `tocsin alerts show`. It lives here, not
in `alerts/`, because notifications sit above alerts in the layers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.schemas import alert_out, event_out
from tocsin.outbox.models import Notification
from tocsin.outbox.service import for_alert


def notification_out(notification: Notification) -> dict[str, Any]:
    """`step` is the escalation step that sent it, None for a notice outside escalation."""
    payload = notification.payload
    return {
        "id": notification.id,
        "channel": notification.channel,
        "target": notification.target,
        "step": (payload.get("escalation") or {}).get("step"),
        "state": notification.state,
        "attempts": notification.attempts,
        "event": payload.get("event"),
        "sent_at": notification.sent_at,
        "last_error": notification.last_error,
    }


def alert_detail(session: Session, alert_id: int) -> dict[str, Any]:
    """The alert with its timeline (oldest first) and notifications; NotFound if none."""
    return {
        **alert_out(alerts.get(session, alert_id)),
        "timeline": [event_out(e) for e in alerts.timeline(session, alert_id)],
        "notifications": [notification_out(n) for n in for_alert(session, alert_id)],
    }
