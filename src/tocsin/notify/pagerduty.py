"""The PagerDuty channel: Events API v2, one PagerDuty incident per Tocsin alert.

fired and severity_changed send `trigger`, acknowledged sends `acknowledge`, resolved sends
`resolve`. A notice about no alert (a silence about to expire) is skipped: it is no
incident, and failing it would raise a delivery alert. PagerDuty answers 202 when it
accepts an event; the shared HTTP helper treats any 2xx as success, 429 and 5xx as worth
retrying, and other 4xx (a bad routing key, a malformed event) as permanent.
"""

from __future__ import annotations

from typing import Any

from tocsin.config.channels import PagerDutyChannelConfig
from tocsin.egress import TransportError
from tocsin.notify.http import JsonChannel
from tocsin.notify.text import ack_link, clip, notice, runbook_link
from tocsin.outbox.payload import Message

ACTIONS = {
    "fired": "trigger",
    "severity_changed": "trigger",
    "acknowledged": "acknowledge",
    "resolved": "resolve",
}
SEVERITIES = {"CRITICAL": "critical", "HIGH": "error", "WARNING": "warning", "INFO": "info"}
SUMMARY_MAX = 1024
SOURCE_MAX = 255


def dedup_key(payload: dict[str, Any]) -> str:
    # Per alert, not per notification: PagerDuty folds triggers with the same key into one
    # open incident, and acknowledge/resolve find that incident only by this key. A key per
    # notification would open a new incident on every retry or severity change and leave
    # the first one open forever. The notification id travels in custom_details instead.
    return f"tocsin-{payload['alert_id']}"


def build_body(message: Message, routing_key: str, public_url: str) -> dict[str, Any]:
    payload = message.payload
    action = ACTIONS.get(str(payload.get("event")))
    if action is None:
        raise TransportError(
            f"no PagerDuty action for event {payload.get('event')!r}", permanent=True
        )
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(payload),
    }
    if action != "trigger":
        return body
    details: dict[str, Any] = {
        **(payload.get("labels") or {}),  # first, so a label cannot hide the fields below
        "message": payload.get("message"),
        "value": payload.get("value"),
        "alert_id": payload.get("alert_id"),
        "notification_id": message.id,
    }
    event: dict[str, Any] = {
        "summary": clip(str(payload.get("title") or "Tocsin alert"), SUMMARY_MAX),
        "source": clip(str(payload.get("check") or "tocsin"), SOURCE_MAX),
        "severity": SEVERITIES.get(str(payload.get("severity")), "info"),
        "custom_details": details,
    }
    if payload.get("at"):
        event["timestamp"] = payload["at"]
    body["payload"] = event
    body["client"] = "Tocsin"
    links = []
    if payload.get("runbook"):
        links.append({"href": runbook_link(str(payload["runbook"]), public_url), "text": "Runbook"})
    if ack_url := ack_link(payload):
        links.append({"href": ack_url, "text": "Acknowledge in Tocsin"})
    if links:
        body["links"] = links
    return body


class PagerDutyChannel(JsonChannel[PagerDutyChannelConfig]):
    def headers(self, message: Message) -> dict[str, str] | None:
        return None  # PagerDuty's dedup_key is in the body

    def body(self, message: Message) -> dict[str, Any] | None:
        if notice(message.payload) is not None:
            return None  # a notice about no alert is no incident
        return build_body(message, self._config.routing_key, self._public_url)
