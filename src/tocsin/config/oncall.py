"""Who can be paged: users with their contact addresses, and schedules of layered rotations."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tocsin.config.console import Role
from tocsin.config.fields import (
    DURATION_FORMS,
    DailyWindow,
    Name,
    Strict,
    ZoneName,
    parse_duration,
)

_CONTACT_FORMS = {
    "email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an email address"),
    "phone": (re.compile(r"^\+[1-9]\d{6,14}$"), "a phone number in E.164 form like +15550100"),
    "slack": (re.compile(r"^[UW][A-Z0-9]{2,20}$"), "a Slack member id like U0123ABCD"),
    "discord": (re.compile(r"^\d{15,21}$"), "a Discord user id (digits, in quotes)"),
}


class UserConfig(Strict):
    """A person an escalation step can page, with the address each channel kind needs."""

    name: str | None = Field(default=None, description="display name; the key when unset")
    email: str | None = Field(default=None, description="where email channels write to them")
    phone: str | None = Field(
        default=None, description="where Twilio texts or calls them, like +15550100001"
    )
    slack: str | None = Field(
        default=None, description="their Slack member id, like U0123ABCD, to mention them"
    )
    discord: str | None = Field(
        default=None, description="their Discord user id (digits, in quotes), to mention them"
    )
    timezone: ZoneName = Field(default="UTC", description="their time zone, for display")
    role: Role = Field(
        default="viewer",
        description="what they may do in the console once given a password (tocsin user "
        "set-password): viewer reads, responder also acknowledges, resolves and silences, "
        "admin also reads the audit log",
    )

    @field_validator("email", "phone", "slack", "discord", mode="before")
    @classmethod
    def _contact(cls, value: object, info: ValidationInfo) -> object:
        form, what = _CONTACT_FORMS[str(info.field_name)]
        if info.field_name == "discord" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # an unquoted id is read as a number; its digits are the id
        if value is not None and not (isinstance(value, str) and form.match(value)):
            raise ValueError(f"{value!r} is not {what}")
        return value


_ROTATIONS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _rotation(value: object) -> timedelta:
    if isinstance(value, str) and value.strip() in _ROTATIONS:
        return _ROTATIONS[value.strip()]
    length = parse_duration(value)
    # PagerDuty's floor too: shorter turns are a typo, and would mean millions of shifts a year.
    if length < timedelta(hours=1):
        raise ValueError(f"{value!r} is shorter than the shortest rotation, 1h")
    return length


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1440:
        # YAML 1.1 reads an unquoted 9:30 as the base-60 integer 570.
        return time(value // 60, value % 60)
    match = _CLOCK_TIME.match(str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{value!r} is not a time of day like '09:00'")
    return time(int(match.group(1)), int(match.group(2)))


def _local_start(value: object) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time like 2026-11-02T09:00") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ValueError(f"{value!r} is not a date and time like 2026-11-02T09:00")
    if value.tzinfo is not None:
        raise ValueError(
            "give the local time without an offset; it is read in the schedule's timezone"
        )
    return value


# What the file writes: `weekly` or `1w`; `09:00`; `2026-11-02T09:00` (no offset) or a date.
ROTATION_SCHEMA: dict[str, object] = {"anyOf": [{"enum": ["daily", "weekly"]}, *DURATION_FORMS]}
CLOCK_TIME_SCHEMA: dict[str, object] = {"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}\s*$"}
LOCAL_START_SCHEMA: dict[str, object] = {
    "type": "string",
    "pattern": r"^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$",
}
Rotation = Annotated[timedelta, BeforeValidator(_rotation), WithJsonSchema(ROTATION_SCHEMA)]
ClockTime = Annotated[time, BeforeValidator(_clock_time), WithJsonSchema(CLOCK_TIME_SCHEMA)]
LocalStart = Annotated[datetime, BeforeValidator(_local_start), WithJsonSchema(LOCAL_START_SCHEMA)]


class RestrictConfig(DailyWindow):
    """Hours of each day a layer covers, in the schedule's zone; outside them lower layers show."""

    def bounds(self) -> tuple[time, time]:
        """Start and end of the daily window; an end at or before the start is the next day."""
        h1, m1, h2, m2 = self._parts()
        return time(h1 % 24, m1), time(h2 % 24, m2)


class LayerConfig(Strict):
    """A rotation: participants take turns of `rotation`, the first turn starting at `start`.

    Turns are counted in the schedule's wall-clock time, so a 09:00 handoff stays at 09:00
    across a daylight-saving change (that day's turn is an hour longer or shorter).
    """

    name: Name = Field(description="the layer's name, unique in its schedule")
    start: LocalStart = Field(
        description="when the first turn begins, in the schedule's time zone, like "
        "2026-11-02T09:00 (a bare date takes `handoff`)"
    )
    rotation: Rotation = Field(
        description="how long each turn lasts: daily, weekly, or a duration of 1h or more"
    )
    handoff: ClockTime | None = Field(
        default=None, description="the time of day turns change, like '09:00'"
    )
    participants: list[str] = Field(
        min_length=1, description="the users who take turns, in order (names under `users`)"
    )
    restrict: RestrictConfig | None = Field(
        default=None, description="the hours of each day this layer covers (default: all)"
    )

    @model_validator(mode="before")
    @classmethod
    def _start_at_handoff(cls, data: Any) -> Any:
        """A bare start date takes the handoff time, so `start: 2026-11-02` reads naturally."""
        if not isinstance(data, dict) or data.get("handoff") is None:
            return data
        start = data.get("start")
        is_date = isinstance(start, date) and not isinstance(start, datetime)
        if is_date or (isinstance(start, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", start)):
            try:
                handoff = _clock_time(data["handoff"])
            except ValueError:
                return data  # the field validator reports it
            return {
                **data,
                "start": datetime.combine(date.fromisoformat(str(start).strip()), handoff),
            }
        return data

    @model_validator(mode="after")
    def _handoff_matches_start(self) -> LayerConfig:
        if self.handoff is not None and self.handoff != self.start.time():
            raise ValueError(
                f"start {self.start.isoformat(timespec='minutes')} is not at the handoff time "
                f"{self.handoff.strftime('%H:%M')}; give a start at the handoff (or a bare date)"
            )
        return self


class OncallScheduleConfig(Strict):
    """Layers in a zone; later layers override earlier ones wherever they have someone."""

    timezone: ZoneName = Field(
        default="UTC", description="the time zone its rotations and restrictions are read in"
    )
    layers: list[LayerConfig] = Field(
        min_length=1, description="the rotations; a later layer wins where it has someone"
    )
    backup: str | None = Field(default=None, description="the schedule that backs this one up")
