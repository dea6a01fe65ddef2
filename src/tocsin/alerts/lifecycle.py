"""The alert state machine, pure.

    firing ──acknowledge──► acknowledged
      │                         │
      └──────resolve──────► resolved ◄──┘

A resolved alert is final. When its condition returns, a *new* alert opens with the same
fingerprint and `previous_id` pointing at the resolved one: the timeline of an incident that
was closed stays closed, the new occurrence pages afresh, and the link keeps the history.
Severity may change while an alert is open (firing or acknowledged); each change is an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tocsin.errors import Conflict

OPEN = ("firing", "acknowledged")
_MOVES = {
    ("firing", "acknowledge"): "acknowledged",
    ("firing", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
}


def next_state(state: str, action: str) -> str:
    """The state after `action`, or Conflict saying why the move is not allowed."""
    try:
        return _MOVES[(state, action)]
    except KeyError:
        raise Conflict(f"cannot {action} an alert that is {state}") from None


@dataclass(frozen=True)
class Desired:
    """What a source says a series should be now: a severity, or None for all clear."""

    fingerprint: str
    severity: str | None


@dataclass(frozen=True)
class Change:
    kind: str  # fire | severity | resolve | keep
    fingerprint: str
    severity: str | None = None


def plan(
    open_severity: Mapping[str, str], desired: Iterable[Desired], authoritative: bool = True
) -> list[Change]:
    """Diff open alerts against what the source says now.

    `authoritative` means the source reported every series it knows (a check's full result),
    so an open alert missing from `desired` has cleared and resolves.
    """
    changes: list[Change] = []
    seen: set[str] = set()
    for item in desired:
        seen.add(item.fingerprint)
        current = open_severity.get(item.fingerprint)
        if item.severity is None:
            if current is not None:
                changes.append(Change("resolve", item.fingerprint))
        elif current is None:
            changes.append(Change("fire", item.fingerprint, item.severity))
        elif current != item.severity:
            changes.append(Change("severity", item.fingerprint, item.severity))
        else:
            changes.append(Change("keep", item.fingerprint, item.severity))
    if authoritative:
        changes.extend(Change("resolve", fp) for fp in sorted(open_severity) if fp not in seen)
    return changes
