"""Tocsin's own plain JSON event, for scripts (`POST /api/v1/events`), parsed (pure).

    {
      "events": [                               # 1 to 1,000 events, stored all or none
        {
          "action": "fire",                     # fire (default) | resolve | acknowledge
          "key": "backup-nightly",              # optional: identity; else the labels are
          "labels": {"service": "db"},          # label values are strings
          "title": "Nightly backup failed",     # required to fire; over 300 characters it is
                                                #  cut with "…", the full text in the message
          "severity": "HIGH",                   # CRITICAL | HIGH | WARNING | INFO (or the
                                                #  words in inbound.schemas), default WARNING
          "message": "pg_dump exited 1",
          "details": {"log": "..."},            # any JSON object
          "ends_at": "2026-11-17T15:00:00Z"     # optional: resolve then unless re-sent
        }
      ]
    }

An event is identified by `key` when given, else by its labels; a resolve or acknowledge
must name the same key or labels as its fire.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from tocsin.fingerprint import fingerprint
from tocsin.inbound.schemas import BadInput, Inbound, finite, severity_from, without_nul
from tocsin.titles import fit

ORIGIN = "event"
Short = Annotated[str, StringConstraints(max_length=1000)]


class PlainEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["fire", "resolve", "acknowledge"] = "fire"
    key: str | None = Field(default=None, min_length=1, max_length=255)
    labels: dict[Annotated[str, StringConstraints(max_length=200)], Short] = Field(
        default_factory=dict
    )
    # Cut to 300 characters ending in "…", the full text leading the message (tocsin.titles).
    title: str | None = Field(default=None, min_length=1, max_length=10_000)
    severity: str | None = Field(default=None, max_length=20)
    message: str = Field(default="", max_length=10_000)
    details: dict[str, Any] = Field(default_factory=dict)
    ends_at: datetime | None = None

    @field_validator("ends_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is past the year 9999 once in UTC") from None


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[PlainEvent] = Field(min_length=1, max_length=1000)


_BATCH = TypeAdapter(EventBatch)


def parse(body: bytes, source: str | None) -> list[Inbound]:
    body = without_nul(body)
    try:
        batch = _BATCH.validate_json(body)
    except ValidationError as exc:
        raise BadInput.from_validation(exc) from None
    problems = []
    for i, event in enumerate(batch.events):
        if event.key is None and not event.labels:
            problems.append(f"events[{i}]: give a 'key' or some 'labels' to identify it")
        if event.action == "fire" and event.title is None:
            problems.append(f"events[{i}].title: is required to fire")
    if problems:
        raise BadInput(problems)
    return [_inbound(e, source, body) for e in batch.events]


def _inbound(event: PlainEvent, source: str | None, body: bytes) -> Inbound:
    identity = {"key": event.key} if event.key is not None else event.labels
    title, message = fit(event.title or "", event.message)
    return Inbound(
        action=event.action,
        origin=ORIGIN,
        fingerprint=fingerprint(ORIGIN, identity),
        labels=event.labels,
        severity=severity_from(event.severity),
        title=title,
        message=message,
        details=finite(event.details, body),
        source=source,
        ends_at=event.ends_at,
        key=event.key or "",
    )
