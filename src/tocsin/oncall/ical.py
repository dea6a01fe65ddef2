"""A schedule's shifts as an iCalendar feed (RFC 5545), for calendar apps to subscribe to.

One VEVENT per shift of a person (gaps are left out), in UTC. A shift's UID is derived from
the schedule, the person and the start, so exporting again (with any range) gives the same
event the same UID and calendar apps update it rather than adding a copy; an override that
moves a shift's start makes a new event, as it should. Written by hand: the format is a
dozen lines and a runtime dependency would buy nothing here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from tocsin.oncall.rotation import Shift

PRODUCT_ID = "-//Tocsin//On-call schedules//EN"
LINE_OCTETS = 75


def event_uid(schedule: str, shift: Shift) -> str:
    key = f"{schedule}|{shift.user}|{shift.start.astimezone(UTC).isoformat()}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@tocsin"


def calendar(
    schedule: str,
    shifts: Sequence[Shift],
    display_name: Callable[[str], str],
    now: datetime,
) -> str:
    """The feed text, CRLF line ends and folded lines included."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(f'On call: {schedule}')}",
    ]
    for shift in shifts:
        if shift.user is None:
            continue
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event_uid(schedule, shift)}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(shift.start)}",
            f"DTEND:{_utc(shift.end)}",
            f"SUMMARY:{_text(f'{display_name(shift.user)} on call ({schedule})')}",
            f"DESCRIPTION:{_text(f'user: {shift.user}; from: {shift.source}')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping: backslash, semicolon, comma and line breaks."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character; continuation lines start with a
    space, which counts toward their 75."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > LINE_OCTETS:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)
