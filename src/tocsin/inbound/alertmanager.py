"""Alertmanager's two inbound shapes, parsed into `Inbound` events (pure, no I/O):

- API v2 `POST /api/v2/alerts`, a list of postable alerts: what Prometheus sends when Tocsin
  is its Alertmanager. Prometheus re-sends every firing alert each cycle with `endsAt` a few
  evaluation intervals ahead, so an alert resolves when its `endsAt` passes without a re-send,
  or at once when the `endsAt` sent is already past. No `endsAt` means now plus
  Alertmanager's default `resolve_timeout` (5m), as Alertmanager does.
- The webhook payload (version 4) an Alertmanager's `webhook_configs` receiver sends: alerts
  carry `status` firing or resolved and never expire on their own (Alertmanager sends the
  resolution itself, and re-sends firing groups only every `repeat_interval`).

Both identify an alert by its label set alone, as Alertmanager does, so the same alert sent
by Prometheus directly and through an Alertmanager is one alert in Tocsin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from tocsin.fingerprint import fingerprint
from tocsin.inbound.schemas import BadInput, Inbound, severity_from

ORIGIN = "alertmanager"
RESOLVE_TIMEOUT = timedelta(minutes=5)
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$", max_length=200)]
LabelSet = dict[LabelName, Annotated[str, StringConstraints(max_length=10_000)]]


class PostableAlert(BaseModel):
    """One alert as Prometheus posts it to `/api/v2/alerts`."""

    model_config = ConfigDict(extra="ignore")

    labels: LabelSet = Field(min_length=1)
    annotations: LabelSet = Field(default_factory=dict)
    startsAt: datetime | None = None  # the wire format's names
    endsAt: datetime | None = None
    generatorURL: str = ""


class WebhookAlert(PostableAlert):
    status: Literal["firing", "resolved"]
    fingerprint: str = ""


class WebhookPayload(BaseModel):
    """Alertmanager's webhook body (`version: "4"`); group fields are kept only as details."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    externalURL: str = ""
    alerts: list[WebhookAlert]


_POSTABLE = TypeAdapter(list[PostableAlert])
_WEBHOOK = TypeAdapter(WebhookPayload)


def parse_postable(body: bytes, now: datetime, source: str | None) -> list[Inbound]:
    """API v2 alerts → events; BadInput naming the field when the body does not fit."""
    try:
        alerts = _POSTABLE.validate_json(body)
    except ValidationError as exc:
        raise BadInput.from_validation(exc, "alerts") from None
    out = []
    for alert in alerts:
        given = _given(alert.endsAt)
        ends = given if given is not None else now + RESOLVE_TIMEOUT
        out.append(_event(alert, "resolve" if ends <= now else "fire", ends, source))
    return out


def parse_webhook(body: bytes, source: str | None) -> list[Inbound]:
    """Webhook v4 → events: each alert fires or resolves as its own `status` says."""
    try:
        payload = _WEBHOOK.validate_json(body)
    except ValidationError as exc:
        raise BadInput.from_validation(exc) from None
    return [
        _event(a, "fire" if a.status == "firing" else "resolve", None, source)
        for a in payload.alerts
    ]


def _event(
    alert: PostableAlert,
    action: Literal["fire", "resolve"],
    ends: datetime | None,
    source: str | None,
) -> Inbound:
    labels = dict(alert.labels)
    notes = alert.annotations
    details: dict[str, Any] = {"annotations": dict(notes)}
    if alert.generatorURL:
        details["generator_url"] = alert.generatorURL
    starts = _given(alert.startsAt)
    if starts is not None:
        details["starts_at"] = starts.isoformat()
    title = notes.get("summary") or labels.get("alertname") or "alert from Alertmanager"
    return Inbound(
        action=action,
        origin=ORIGIN,
        fingerprint=label_fingerprint(labels),
        labels=labels,
        severity=severity_from(labels.get("severity")),
        title=title[:300],
        message=notes.get("description") or notes.get("summary") or "",
        details=details,
        source=source,
        ends_at=ends,
    )


def label_fingerprint(labels: dict[str, str]) -> str:
    return _fingerprint_of(tuple(sorted(labels.items())))


@lru_cache(maxsize=8192)
def _fingerprint_of(labels: tuple[tuple[str, str], ...]) -> str:
    # Prometheus re-sends the same label sets every cycle: the digest is most of the
    # parsing cost of a re-send, so recent ones are remembered (a few MB at most).
    return fingerprint(ORIGIN, dict(labels))


def _given(value: datetime | None) -> datetime | None:
    """A sender's time in UTC (one without an offset is taken as UTC); Go's zero time
    (`0001-01-01T00:00:00Z`, what amtool and webhooks send for "none") is no time."""
    if value is None or value.year <= 1:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def gettable(alert: Any, now: datetime) -> dict[str, Any]:
    """An open alert in API v2's `GET /api/v2/alerts` shape (what amtool reads)."""
    details = alert.details or {}
    ends = alert.ends_at or now + RESOLVE_TIMEOUT
    return {
        "labels": alert.labels,
        "annotations": details.get("annotations", {}),
        "startsAt": details.get("starts_at") or alert.started_at.isoformat(),
        "endsAt": ends.isoformat(),
        "updatedAt": alert.updated_at.isoformat(),
        "generatorURL": details.get("generator_url", ""),
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": "tocsin"}],
        "status": {
            "state": "active",  # acknowledged is Tocsin's notion; Alertmanager has none
            "silencedBy": [],
            "inhibitedBy": [],
            "mutedBy": [],
        },
    }
