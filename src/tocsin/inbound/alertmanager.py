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
from typing_extensions import TypedDict

from tocsin.fingerprint import fingerprint
from tocsin.inbound.schemas import BadInput, Inbound, severity_from, without_nul
from tocsin.noise.decide import match_labels
from tocsin.titles import fit

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


# What a body is parsed into: the models' shapes as plain dicts (pydantic builds no model per
# alert), each time kept as the text sent and read once per distinct text (Prometheus re-sends
# each alert's startsAt unchanged, and one endsAt for all the alerts of a rule evaluation).
# They accept what the models accept, but for a time's text, checked when it is read; a body
# refused either way is validated again by the models, whose errors name its faults (and
# whose schema the OpenAPI document shows). tests/inbound/test_parse.py holds them equal.
Moment = str | datetime | None  # a sent time's text, or a number pydantic read as a time
_TIME = Field(default=None, union_mode="left_to_right")


class _Alert(TypedDict):
    labels: Annotated[LabelSet, Field(min_length=1)]
    annotations: Annotated[LabelSet, Field(default_factory=dict)]
    startsAt: Annotated[Moment, _TIME]
    endsAt: Annotated[Moment, _TIME]
    generatorURL: Annotated[str, Field(default="")]


class _WebhookAlert(_Alert):
    status: Literal["firing", "resolved"]
    fingerprint: Annotated[str, Field(default="")]


class _Webhook(TypedDict):
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: Annotated[str, Field(default="")]
    groupKey: Annotated[str, Field(default="")]
    externalURL: Annotated[str, Field(default="")]
    alerts: list[_WebhookAlert]


_ALERTS = TypeAdapter(list[_Alert])
_PAYLOAD = TypeAdapter(_Webhook)
_DATETIME = TypeAdapter(datetime)


def parse_postable(body: bytes, now: datetime, source: str | None) -> list[Inbound]:
    """API v2 alerts → events; BadInput naming the field when the body does not fit."""
    body = without_nul(body)
    try:
        out = []
        for alert in _ALERTS.validate_json(body):
            given = _utc(alert["endsAt"])
            ends = given[0] if given is not None else now + RESOLVE_TIMEOUT
            out.append(_event(alert, "resolve" if ends <= now else "fire", ends, source))
        return out
    except (ValidationError, OverflowError):
        # The models name the fault; the one they miss is a time past year 9999 once in UTC.
        try:
            alerts = _POSTABLE.validate_json(body)
        except ValidationError as exc:
            raise BadInput.from_validation(exc, "alerts") from None
        raise _out_of_range(alerts, "alerts") from None


def parse_webhook(body: bytes, source: str | None) -> list[Inbound]:
    """Webhook v4 → events: each alert fires or resolves as its own `status` says."""
    body = without_nul(body)
    try:
        out = []
        for alert in _PAYLOAD.validate_json(body)["alerts"]:
            _utc(alert["endsAt"])  # unused, but must be a time UTC can hold
            firing = alert["status"] == "firing"
            out.append(_event(alert, "fire" if firing else "resolve", None, source))
        return out
    except (ValidationError, OverflowError):
        try:
            payload = _WEBHOOK.validate_json(body)
        except ValidationError as exc:
            raise BadInput.from_validation(exc) from None
        raise _out_of_range(payload.alerts, "alerts") from None


def _out_of_range(alerts: list[PostableAlert] | list[WebhookAlert], root: str) -> BadInput:
    """The times of valid alerts that UTC cannot hold (`astimezone` overflows past 9999)."""
    problems = []
    for i, alert in enumerate(alerts):
        for name in ("startsAt", "endsAt"):
            try:
                _given(getattr(alert, name))
            except OverflowError:
                problems.append(f"{root}[{i}].{name}: is past the year 9999 once in UTC")
    return BadInput(problems or [f"{root}: a time is out of range"])


def _event(
    alert: _Alert,
    action: Literal["fire", "resolve"],
    ends: datetime | None,
    source: str | None,
) -> Inbound:
    labels = alert["labels"]
    notes = alert["annotations"]
    details: dict[str, Any] = {"annotations": notes}
    if alert["generatorURL"]:
        details["generator_url"] = alert["generatorURL"]
    starts = _utc(alert["startsAt"])
    if starts is not None:
        details["starts_at"] = starts[1]
    title, message = fit(
        notes.get("summary") or labels.get("alertname") or "alert from Alertmanager",
        notes.get("description") or notes.get("summary") or "",
    )
    return Inbound(
        action=action,
        origin=ORIGIN,
        fingerprint=label_fingerprint(labels),
        labels=labels,
        severity=severity_from(labels.get("severity")),
        title=title,
        message=message,
        details=details,
        source=source,
        ends_at=ends,
    )


def label_fingerprint(labels: dict[str, str]) -> str:
    # Keyed by the names then the values in the order sent (a sender keeps its order): no
    # sort and no pair tuples per alert.
    return _fingerprint_of((*labels, *labels.values()))


@lru_cache(maxsize=8192)
def _fingerprint_of(names_then_values: tuple[str, ...]) -> str:
    # Prometheus re-sends the same label sets every cycle: the digest is most of the
    # parsing cost of a re-send, so recent ones are remembered (a few MB at most).
    half = len(names_then_values) // 2
    return fingerprint(
        ORIGIN, dict(zip(names_then_values[:half], names_then_values[half:], strict=True))
    )


def _utc(value: Moment) -> tuple[datetime, str] | None:
    """A sent time in UTC and in ISO 8601, None for none (as `_given`); ValidationError for
    text that is not a time."""
    if isinstance(value, str):
        return _read(value)
    given = _given(value)
    return None if given is None else (given, given.isoformat())


@lru_cache(maxsize=8192)
def _read(text: str) -> tuple[datetime, str] | None:
    given = _given(_DATETIME.validate_python(text))
    return None if given is None else (given, given.isoformat())


def _given(value: datetime | None) -> datetime | None:
    """A sender's time in UTC (one without an offset is taken as UTC); Go's zero time
    (`0001-01-01T00:00:00Z`, what amtool and webhooks send for "none") is no time."""
    if value is None or value.year <= 1:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def gettable(alert: Any, now: datetime) -> dict[str, Any]:
    """An open alert in API v2's `GET /api/v2/alerts` shape (what amtool reads). Its labels
    are what silences and inhibition match on (`shown_labels`)."""
    details = alert.details or {}
    ends = alert.ends_at or now + RESOLVE_TIMEOUT
    return {
        "labels": shown_labels(alert),
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


def shown_labels(alert: Any) -> dict[str, str]:
    """The labels a matcher sees on an alert (a check's alert adds `check`, `alertname` and
    `severity`; the sender's own labels win): what Alertmanager's views show and filter on."""
    return match_labels(alert.labels, alert.check_name, alert.severity)
