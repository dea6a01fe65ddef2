"""The building blocks every section shares: durations, zones, names, matchers, daily windows,
and `Strict`, the base of every section (unknown keys are errors, values are frozen)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from tocsin.errors import Invalid
from tocsin.matchers import parse_matcher

SEVERITIES = ("CRITICAL", "HIGH", "WARNING", "INFO")
# Worst first: the lower the rank, the more it matters (min() picks the worst).
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
Severity = Literal["CRITICAL", "HIGH", "WARNING", "INFO"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """Parse `90s`, `5m`, `1h30m`, `7d` (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h30m, 7d")
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h30m, 7d")
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """The shortest text `parse_duration` reads back as `value`: `90s` is `1m30s`."""
    left = round(value.total_seconds() * 1000)
    if left == 0:
        return "0s"
    sign = "-" if left < 0 else ""
    left = abs(left)
    out = ""
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = round(_UNIT_SECONDS[unit] * 1000)
        count, left = divmod(left, size)
        if count:
            out += f"{count}{unit}"
    return sign + out


# The JSON Schema of each kind of value that the file writes as text and Tocsin reads into
# something else. An editor checks against them; `reference` names them in the docs.
DURATION_FORMS: list[dict[str, object]] = [
    {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d|w))+\s*$"},
    {"type": "number"},  # seconds
]
DURATION_SCHEMA: dict[str, object] = {"anyOf": DURATION_FORMS}
ZONE_SCHEMA: dict[str, object] = {"type": "string", "examples": ["UTC", "America/New_York"]}
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


def _zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known time zone (e.g. America/New_York)") from exc
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA)]
ZoneName = Annotated[str, BeforeValidator(_zone), WithJsonSchema(ZONE_SCHEMA)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


# The base of every section: an unknown key is an error (a typo must not pass silently), values
# are frozen, and a field with an alias (`for`, `continue`) may also be given by its name.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _matcher_list(value: list[str]) -> list[str]:
    for text in value:
        try:
            parse_matcher(text)
        except Invalid as exc:
            raise ValueError(str(exc)) from exc
    return value


MATCHER_SCHEMA: dict[str, object] = {
    "type": "string",
    "examples": ['service="payments"', 'severity=~"CRITICAL|HIGH"'],
}
Matchers = Annotated[
    list[Annotated[str, WithJsonSchema(MATCHER_SCHEMA)]], AfterValidator(_matcher_list)
]


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression ({exc})") from None
    return value


Regex = Annotated[str, AfterValidator(_regex)]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


# `between: "06:00-23:00"` on some days: a check's active hours, an on-call layer's restriction.
class DailyWindow(Strict):
    between: str = Field(
        description="the hours of each day, like '06:00-23:00' (an end before the start is "
        "the next day)"
    )
    days: list[Day] = Field(
        default_factory=lambda: list(DAYS), description="the days the window opens on"
    )

    @field_validator("between")
    @classmethod
    def _window(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a window like '06:00-23:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"{value!r} has an impossible time")
        return value

    def _parts(self) -> tuple[int, int, int, int]:
        match = _HOURS.match(self.between)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return h1, m1, h2, m2


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; write it like 2026-11-22T02:00Z")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]
