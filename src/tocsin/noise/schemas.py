"""How a silence, a maintenance window and a known issue are shown: one dict each, answered
by `/api/v1` and laid out in columns by the CLI (`tocsin silence|maintenance|known-issue
list`). Times are aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tocsin.noise.common import status_of, window_of
from tocsin.noise.models import KnownIssue, MaintenanceWindow, Silence

Row = dict[str, Any]


def silence_out(silence: Silence, now: datetime) -> Row:
    return {
        "id": silence.id,
        "matchers": silence.matchers,
        "status": status_of(silence, now),
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "every": silence.every,
        "duration_seconds": silence.duration_s,
        "timezone": silence.timezone,
        "created_by": silence.created_by,
        "comment": silence.comment,
        "created_at": silence.created_at,
        "updated_at": silence.updated_at,
        "suppressed": silence.suppressed_count,
    }


def window_out(window: MaintenanceWindow, now: datetime) -> Row:
    next_start = window_of(window).next_start(now)  # in the window's zone: shown in UTC
    return {
        "id": window.id,
        "title": window.title,
        "description": window.description,
        "services": window.services,
        "status": status_of(window, now),
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "every": window.every,
        "duration_seconds": window.duration_s,
        "timezone": window.timezone,
        "next_start": next_start.astimezone(UTC) if next_start else None,
        "created_by": window.created_by,
        "created_at": window.created_at,
        "suppressed": window.suppressed_count,
        "public": window.public,
    }


def known_issue_out(issue: KnownIssue, now: datetime) -> Row:
    return {
        "id": issue.id,
        "matchers": issue.matchers,
        "message_contains": issue.message_contains,
        "message_regex": issue.message_regex,
        "reason": issue.reason,
        "status": "active" if issue.expires_at > now else "expired",
        "expires_at": issue.expires_at,
        "origin": issue.origin,
        "created_by": issue.created_by,
        "created_at": issue.created_at,
        "suppressed": issue.suppressed_count,
    }
