"""Text helpers the channels share: cutting to a service's limits, links, numbers."""

from __future__ import annotations

from typing import Any


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in "…" when something was cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1] + "…"


def runbook_link(runbook: str, public_url: str) -> str:
    """A runbook is a URL or the slug of one of Tocsin's runbook pages."""
    if runbook.startswith(("http://", "https://")):
        return runbook
    return f"{public_url.rstrip('/')}/runbooks/{runbook}"


def ack_link(payload: dict[str, Any]) -> str | None:
    """The signed acknowledge link the pipeline put in the payload; only an alert still firing
    has anything to acknowledge."""
    url = payload.get("ack_url")
    if payload.get("state") != "firing" or not isinstance(url, str):
        return None
    return url


# Events about no alert, whose payload's `title` and `message` are the whole notice (a
# silence about to expire tells its creator): channels show them as they are, without an
# alert's facts, severity colours or acknowledge links, and PagerDuty skips them. Incidents'
# notices (`tocsin.incidents.comms`) are declarations, status changes, posted updates, role
# instructions and update reminders; a part of a report (reports/post.py) may add `mention`
# (Discord, Slack) and `html` (email).
NOTICE_EVENTS = (
    "silence_expiring",
    "report",
    "incident_declared",
    "incident_status",
    "incident_update",
    "incident_role",
    "incident_reminder",
)


def notice(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(title, text) of a notice about no alert, or None for an alert's event."""
    if payload.get("event") not in NOTICE_EVENTS:
        return None
    return str(payload.get("title") or ""), str(payload.get("message") or "")


def format_value(value: float) -> str:
    """12.0 as "12", 0.25 as "0.25": what a person would write."""
    return str(int(value)) if float(value).is_integer() else str(value)
