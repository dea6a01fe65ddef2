"""PagerDuty Events API v2 (`POST /v2/enqueue`), parsed into one `Inbound` event (pure).

Anything that can page PagerDuty can page Tocsin: the body's `routing_key` is a Tocsin
ingest token, `dedup_key` names the alert within that integration (generated and answered
back when a trigger has none, as PagerDuty does), and acknowledge/resolve for a key with no
open alert are accepted and change nothing, as PagerDuty does. Errors come back in
PagerDuty's 400 shape: `{"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}`.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tocsin.fingerprint import fingerprint
from tocsin.inbound.schemas import BadInput, Inbound, finite, severity_from, without_nul
from tocsin.titles import fit

ORIGIN = "pagerduty"
_ACTIONS: dict[str, Literal["fire", "acknowledge", "resolve"]] = {
    "trigger": "fire",
    "acknowledge": "acknowledge",
    "resolve": "resolve",
}


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: str | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(default=None, alias="class")
    custom_details: Any = None


class Link(BaseModel):
    href: str
    text: str | None = None


class Event(BaseModel):
    """One Events API v2 event; `payload` is required for triggers only."""

    model_config = ConfigDict(extra="ignore")

    routing_key: str = Field(min_length=1, max_length=255)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, max_length=255)
    payload: Payload | None = None
    client: str | None = None
    client_url: str | None = None
    links: list[Link] = Field(default_factory=list)


_EVENT = TypeAdapter(Event)


def parse(body: bytes) -> Event:
    """Validate the body; BadInput lists PagerDuty-style errors naming each field."""
    body = without_nul(body)
    try:
        event = _EVENT.validate_json(body)
    except ValidationError as exc:
        raise BadInput.from_validation(exc) from None
    if event.payload is not None:
        event.payload.custom_details = finite(event.payload.custom_details, body)
    if event.event_action == "trigger" and event.payload is None:
        raise BadInput(["payload: is required for a trigger event"])
    if event.event_action != "trigger" and not event.dedup_key:
        raise BadInput([f"dedup_key: is required for an {event.event_action} event"])
    return event


def to_inbound(event: Event, source: str) -> Inbound:
    """The event as Tocsin's; `source` is the integration the routing key belongs to."""
    key = event.dedup_key or uuid.uuid4().hex
    labels = {"integration": source, "dedup_key": key}
    if event.payload is None:
        return Inbound(
            action=_ACTIONS[event.event_action],
            origin=ORIGIN,
            fingerprint=fingerprint(ORIGIN, labels),
            labels=labels,
            source=source,
            key=key,
        )
    payload = event.payload
    for name in ("component", "group", "class_"):
        value = getattr(payload, name)
        if value:
            labels[name.rstrip("_")] = value
    labels["source"] = payload.source
    # None when not sent: a re-trigger without them keeps the ones stored (details merge).
    details: dict[str, Any] = {}
    if payload.custom_details is not None:
        details["custom_details"] = payload.custom_details
    if payload.timestamp:
        details["timestamp"] = payload.timestamp
    if event.client_url:
        details["client"] = {"name": event.client, "url": event.client_url}
    if event.links:
        details["links"] = [link.model_dump() for link in event.links]
    message = payload.summary
    if isinstance(payload.custom_details, str):
        message += "\n" + payload.custom_details
    title, message = fit(payload.summary, message)
    return Inbound(
        action=_ACTIONS[event.event_action],
        origin=ORIGIN,
        # The identity is the integration and dedup key only, so a re-trigger with new
        # details or severity updates the same alert.
        fingerprint=fingerprint(ORIGIN, {"integration": source, "dedup_key": key}),
        labels=labels,
        severity=severity_from(payload.severity),
        title=title,
        message=message,
        details=details,
        source=source,
        key=key,
    )
