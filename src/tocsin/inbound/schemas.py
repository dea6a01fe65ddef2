"""The normalised inbound event every format parses into, and what the formats share:
the severity mapping and readable validation errors.

Severity from a sender's word (Alertmanager's `severity` label, PagerDuty's
`payload.severity`, the plain event's `severity`), case-insensitive:

    critical, page, p1                  → CRITICAL
    error, high, major, p2              → HIGH
    warning, warn, minor, p3            → WARNING
    info, informational, low, p4, p5    → INFO
    missing or anything else            → WARNING (seen, never silently dropped or paging)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from tocsin.errors import Invalid

Action = Literal["fire", "resolve", "acknowledge"]

_SEVERITY = {
    **dict.fromkeys(("critical", "page", "p1"), "CRITICAL"),
    **dict.fromkeys(("error", "high", "major", "p2"), "HIGH"),
    **dict.fromkeys(("warning", "warn", "minor", "p3"), "WARNING"),
    **dict.fromkeys(("info", "informational", "low", "p4", "p5"), "INFO"),
}
DEFAULT_SEVERITY = "WARNING"


def severity_from(word: str | None) -> str:
    """Tocsin's severity for a sender's severity word (see the module's table)."""
    if word is None:
        return DEFAULT_SEVERITY
    return _SEVERITY.get(word.strip().lower(), DEFAULT_SEVERITY)


@dataclass(frozen=True, init=False)
class Inbound:
    """One thing a sender said about one alert, identified by `fingerprint`."""

    action: Action
    origin: str  # alertmanager | pagerduty | event
    fingerprint: str
    labels: dict[str, str]
    severity: str
    title: str
    message: str
    details: dict[str, Any]
    source: str | None  # the integration (token name) it came through
    ends_at: datetime | None  # resolve at this time unless the sender refreshes it
    key: str  # the sender's own key for it (PagerDuty dedup_key), echoed back

    def __init__(
        self,
        action: Action,
        origin: str,
        fingerprint: str,
        labels: dict[str, str] | None = None,
        severity: str = DEFAULT_SEVERITY,
        title: str = "",
        message: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
        ends_at: datetime | None = None,
        key: str = "",
    ) -> None:
        # Written out: the __init__ dataclass generates for a frozen class sets each field
        # through object.__setattr__, twice the cost of this (1.1 µs more per parsed alert).
        vars(self).update(
            action=action,
            origin=origin,
            fingerprint=fingerprint,
            labels={} if labels is None else labels,
            severity=severity,
            title=title,
            message=message,
            details={} if details is None else details,
            source=source,
            ends_at=ends_at,
            key=key,
        )


def problems_of(exc: ValidationError, root: str = "") -> list[str]:
    """Pydantic's errors as `path.to[2].field: what is wrong`, one per problem."""
    out = []
    for error in exc.errors(include_url=False):
        path = root
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += f".{part}" if path else str(part)
        message = str(error["msg"]).removeprefix("Value error, ")
        out.append(f"{path or '(body)'}: {message}")
    return out


class BadInput(Invalid):
    """A body that does not match its format; `problems` name each bad field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))

    @classmethod
    def from_validation(cls, exc: ValidationError, root: str = "") -> BadInput:
        return cls(problems_of(exc, root))
