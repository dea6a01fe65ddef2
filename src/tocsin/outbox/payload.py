"""What an outbox row carries to a channel: an alert event as plain data, and the message a
claimed row becomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tocsin.alerts.models import Alert, AlertEvent


@dataclass(frozen=True)
class Message:
    """What a channel sends: the outbox row's stable id (the dedup key) and its payload."""

    id: str
    channel: str
    target: str | None
    payload: dict[str, Any]


def payload_for(alert: Alert, event: AlertEvent) -> dict[str, Any]:
    """Version 1 of the payload every channel reads (`notify/webhook.py` documents it)."""
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
