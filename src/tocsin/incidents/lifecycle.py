"""The pure core of incidents: ids, severities, statuses and which moves are allowed."""

from __future__ import annotations

import re
from datetime import date

from tocsin.errors import Conflict, Invalid

# SEV-n is the alert severity of reference 000 6.2.1 (DESIGN's vocabulary), with its targets.
SEVERITIES = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
ALERT_SEVERITY = {"SEV-1": "CRITICAL", "SEV-2": "HIGH", "SEV-3": "WARNING", "SEV-4": "INFO"}
FROM_ALERT = {alert: sev for sev, alert in ALERT_SEVERITY.items()}

STATUSES = ("investigating", "identified", "mitigating", "resolved", "closed")
OPEN = ("investigating", "identified", "mitigating")
# Open incidents move freely among the open statuses (a diagnosis can be wrong) and on to
# `resolved`; a resolved one is closed (once its post-mortem is done) or reopened; a closed
# one is final. Nothing skips `resolved` on its way to `closed`.
MOVES: dict[str, frozenset[str]] = {
    **{status: frozenset({*OPEN, "resolved"}) - {status} for status in OPEN},
    "resolved": frozenset({*OPEN, "closed"}),
    "closed": frozenset(),
}
ROLES = ("commander", "comms_lead", "scribe")
ROLE_NAMES = {"commander": "commander", "comms_lead": "communications lead", "scribe": "scribe"}

_ID = re.compile(r"^INC-(\d{4})-(\d{2})-(\d{2})-(\d{3,})$")


def format_id(day: date, number: int) -> str:
    """`INC-2026-11-22-001`: the day in the configured zone and that day's counter."""
    return f"INC-{day.isoformat()}-{number:03d}"


def is_id(text: str) -> bool:
    return _ID.match(text) is not None


def check_severity(severity: str) -> str:
    """A SEV-n, also given as its alert severity (CRITICAL is SEV-1) or lower case."""
    value = severity.strip().upper()
    value = FROM_ALERT.get(value, value)
    if value not in SEVERITIES:
        raise Invalid(
            f"severity: {severity!r} is not one of {', '.join(SEVERITIES)} "
            "(or CRITICAL, HIGH, WARNING, INFO)"
        )
    return value


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise Invalid(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    return status


def check_role(role: str) -> str:
    value = role.strip().lower().replace("-", "_")
    if value in ("comms", "communications_lead", "liaison"):
        value = "comms_lead"
    if value not in ROLES:
        raise Invalid(f"role: {role!r} is not one of commander, comms_lead, scribe")
    return value


def check_move(incident_id: str, current: str, wanted: str) -> None:
    """Conflict unless an incident in `current` may move to `wanted`."""
    check_status(wanted)
    if wanted == current:
        raise Conflict(f"incident {incident_id} is already {current}")
    if wanted not in MOVES[current]:
        allowed = ", ".join(s for s in STATUSES if s in MOVES[current]) or "nothing (it is final)"
        raise Conflict(
            f"incident {incident_id} cannot go from {current} to {wanted} (allowed: {allowed})"
        )
