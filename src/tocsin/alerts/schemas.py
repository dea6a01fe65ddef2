"""How an alert and its timeline are shown: the dicts `/api/v1` answers and `tocsin alerts
--json` prints."""

from __future__ import annotations

from typing import Any

from tocsin.alerts.models import Alert, AlertEvent

ALERT_FIELDS = (
    "id", "fingerprint", "origin", "check_name", "source", "labels", "severity", "state",
    "title", "message", "value", "runbook", "details", "started_at", "updated_at", "ends_at",
    "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "previous_id",
)  # fmt: skip


def alert_out(alert: Alert) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in ALERT_FIELDS}


def event_out(event: AlertEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "kind": event.kind,
        "from": event.state_from,
        "to": event.state_to,
        "severity": event.severity,
        "actor": event.actor,
        "note": event.note,
    }
