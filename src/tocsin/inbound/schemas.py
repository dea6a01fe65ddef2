"""The normalised inbound event every format parses into, and what the formats share:
the severity mapping and readable validation errors.

Severity from a sender's word (Alertmanager's `severity` label, PagerDuty's
`payload.severity`, the plain event's `severity`), case-insensitive:

    critical, page, p1                  → CRITICAL
    error, high, major, p2              → HIGH
    warning, warn, minor, p3            → WARNING
    info, informational, low, p4, p5    → INFO
    missing or anything else            → WARNING (seen, never silently dropped or paging)

What PostgreSQL's text and JSON cannot hold is normalised the same on both stores, before
anything is parsed or compared: a NUL character anywhere in a body (a label, an annotation, a
title, a message, a key, the details) becomes U+FFFD, and NaN or ±Infinity in free-form
details becomes the string "NaN", "Infinity" or "-Infinity".
"""

from __future__ import annotations

import math
import re
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


# A `\u0000` escape preceded by an even number of backslashes (an odd number escapes the
# backslash itself); JSON allows backslashes nowhere outside strings.
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")
_NOT_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def without_nul(body: bytes) -> bytes:
    """A JSON body with each escaped NUL character (`\\u0000`) made U+FFFD (`\\ufffd`); a raw
    NUL byte is not valid JSON and is refused by the parser."""
    if b"\\u0000" not in body:
        return body  # the common case: one scan
    return _NUL_ESCAPE.sub(rb"\1\\ufffd", body)


def finite(value: Any, body: bytes) -> Any:
    """`value` (parsed from `body`) with NaN and ±Infinity floats as strings."""
    if b"NaN" not in body and b"Infinity" not in body:
        return value  # the common case: no such number was sent
    return _finite(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return _NOT_FINITE[repr(value)]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


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
