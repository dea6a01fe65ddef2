"""The pure decisions of noise control: values and an instant in, a decision out, no I/O.

Does this silence, window or known issue apply to these labels now; does a firing alert
inhibit this one; is this series flapping; which group does an alert belong to and when is
that group flushed; what does its summary say. The store modules feed them rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from tocsin.config.fields import SEVERITY_RANK
from tocsin.matchers import Matcher, matches_all, parse_matcher


def match_labels(
    labels: Mapping[str, str], check_name: str | None, severity: str
) -> dict[str, str]:
    """What matchers see: the alert's labels plus `check`, `alertname` and `severity`, so a
    rule can say `severity="CRITICAL"` or `check="payments"`; explicit labels win."""
    base = {"severity": severity}
    if check_name:
        base |= {"check": check_name, "alertname": check_name}
    return base | dict(labels)


def parse_all(texts: Iterable[str]) -> list[Matcher]:
    return [parse_matcher(text) for text in texts]


# --- time windows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """[starts_at, ends_at), or, when `every` is a cron expression, each occurrence of it in
    `timezone` lasting `duration`, within [starts_at, ends_at)."""

    starts_at: datetime
    ends_at: datetime
    every: str | None = None
    duration: timedelta | None = None
    timezone: str = "UTC"

    def active_until(self, now: datetime) -> datetime | None:
        """The end of the occurrence covering `now`, or None when `now` is outside it."""
        if not self.starts_at <= now < self.ends_at:
            return None
        if self.every is None or self.duration is None:
            return self.ends_at
        zone = ZoneInfo(self.timezone)
        # The latest occurrence start at or before now (cron has minute resolution, so
        # looking back from one second later includes a start exactly at `now`).
        local = (now + timedelta(seconds=1)).astimezone(zone)
        start: datetime = croniter(self.every, local).get_prev(datetime)
        end = start + self.duration
        if start < self.starts_at or now >= end:
            return None
        return min(end, self.ends_at)

    def next_start(self, now: datetime) -> datetime | None:
        """When the next occurrence begins after `now` (None once the window is over)."""
        if now >= self.ends_at:
            return None
        if self.every is None:
            return self.starts_at if now < self.starts_at else None
        zone = ZoneInfo(self.timezone)
        begin = max(now, self.starts_at - timedelta(seconds=1)).astimezone(zone)
        start: datetime = croniter(self.every, begin).get_next(datetime)
        return start if start < self.ends_at else None


# --- what each kind of suppression matches -------------------------------------------------------


def maintenance_applies(services: Sequence[str], labels: Mapping[str, str]) -> bool:
    """The reference's `service_name = ANY(affected_services)`."""
    return labels.get("service", "") in services


def known_issue_applies(
    matchers: Sequence[Matcher],
    contains: str | None,
    regex: str | None,
    labels: Mapping[str, str],
    text: str,
) -> bool:
    """Every given part must hold: the matchers on labels, a case-insensitive substring of
    the alert's title and message (the reference's `error_contains`), a regex search."""
    if not matches_all(matchers, labels):
        return False
    if contains is not None and contains.lower() not in text.lower():
        return False
    return regex is None or re.search(regex, text) is not None


@dataclass(frozen=True)
class Candidate:
    """An open alert that might inhibit others."""

    alert_id: int
    fingerprint: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


def inhibitor(
    rules: Sequence[InhibitRule],
    fingerprint: str,
    labels: Mapping[str, str],
    firing: Iterable[Candidate],
) -> tuple[int, Candidate] | None:
    """Alertmanager's rule: a firing source alert mutes a target that matches the target
    matchers and has the same value (missing counts as empty) for every `equal` label. An
    alert never inhibits itself. Returns the rule's index and the inhibiting alert."""
    applicable = [(i, r) for i, r in enumerate(rules) if matches_all(r.target, labels)]
    if not applicable:
        return None
    for candidate in firing:
        if candidate.fingerprint == fingerprint:
            continue
        for index, rule in applicable:
            if matches_all(rule.source, candidate.labels) and all(
                candidate.labels.get(name, "") == labels.get(name, "") for name in rule.equal
            ):
                return index, candidate
    return None


# --- flapping --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flap:
    changes: tuple[datetime, ...]  # within the window, oldest first
    flapping_since: datetime | None
    started: bool  # this change made the series flapping: announce it once


def flap_step(
    changes: Sequence[datetime],
    flapping_since: datetime | None,
    now: datetime,
    *,
    threshold: int,
    window: timedelta,
) -> Flap:
    """Record one state change at `now`: more than `threshold` changes within `window`
    marks the series flapping (it stays so until `settled` says it is stable)."""
    kept = (*(t for t in changes if t > now - window), now)
    if flapping_since is not None:
        return Flap(kept, flapping_since, False)
    if len(kept) > threshold:
        return Flap(kept, now, True)
    return Flap(kept, None, False)


def settled(last_change_at: datetime, now: datetime, stable_for: timedelta) -> bool:
    return now - last_change_at >= stable_for


# --- grouping ---------------------------------------------------------------------------------


def group_labels(by: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
    return {name: labels.get(name, "") for name in by}


def group_key(labels: Mapping[str, str], channels: Sequence[str]) -> str:
    """Alerts with the same grouping labels going to the same channels share a group."""
    canonical = json.dumps([sorted(labels.items()), sorted(channels)], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def next_flush(
    now: datetime,
    last_flush_at: datetime | None,
    *,
    group_wait: timedelta,
    group_interval: timedelta,
) -> datetime:
    """A new group waits `group_wait` so the storm's first alerts arrive together; a group
    that flushed before waits until `group_interval` after that flush (Alertmanager)."""
    if last_flush_at is None or now - last_flush_at >= group_interval:
        return now + group_wait
    return last_flush_at + group_interval


@dataclass(frozen=True)
class Occurrence:
    alert_id: int
    kind: str  # fired | severity_changed | acknowledged | resolved
    at: datetime
    title: str
    message: str
    severity: str
    labels: Mapping[str, str]
    actor: str | None = None  # who acknowledged
    flapping: bool = False  # this event is the one that announces the series flaps


@dataclass(frozen=True)
class Summary:
    event: str  # fired while a member fires, acknowledged once all open ones are, else resolved
    title: str
    message: str
    severity: str
    count: int
    first_at: datetime
    latest_at: datetime
    samples: tuple[dict[str, object], ...]


def summarise(
    occurrences: Sequence[Occurrence], open_count: int, acknowledged_count: int = 0
) -> Summary:
    """The reference's grouped message: "Payment processing stopped (7 occurrences in 94 s)",
    first and latest occurrence, the count and up to three samples. A flush holding only
    acknowledgements or only resolutions says how many and (for acknowledgements) by whom.
    `open_count` members still fire; `acknowledged_count` are acknowledged but not resolved.
    """
    assert occurrences, "a flush summarises at least one occurrence"
    fired = [o for o in occurrences if o.kind in ("fired", "severity_changed")]
    acked = [o for o in occurrences if o.kind == "acknowledged"]
    resolved = [o for o in occurrences if o.kind == "resolved"]
    shown = fired or acked or resolved
    head = shown[0]
    first_at, latest_at = min(o.at for o in shown), max(o.at for o in shown)
    count = len(shown)
    seconds = round((latest_at - first_at).total_seconds())
    event = "fired" if open_count else "acknowledged" if acknowledged_count else "resolved"
    if count == 1 and (fired or head.kind == event):  # the channel's prefix says the rest
        title = head.title
    elif fired:
        title = f"{head.title} ({count} occurrences in {seconds} s)"
    elif acked:
        title = f"{head.title} ({count} acknowledged)"
    else:
        title = f"{head.title} ({count} resolved)"
    parts = [f"This alert fired {count} times in {seconds} seconds."] if len(fired) > 1 else []
    if count == 1 and head.message:
        parts.append(head.message)
    if acked:
        parts.append(f"{len(acked)} acknowledged by {_who(acked)}.")
    flapping = [o for o in shown if o.flapping]
    if flapping:
        parts.append(
            f"{len(flapping)} flapping: changing state too often, quiet until stable."
            if len(shown) > 1
            else "Flapping: changing state too often, quiet until stable."
        )
    if resolved and shown is not resolved:
        parts.append(f"{len(resolved)} resolved since.")
    if open_count == 0 and acknowledged_count == 0:
        parts.append("All resolved.")
    elif open_count == 0:
        parts.append(f"All {acknowledged_count} open acknowledged.")
    elif count > 1 or open_count > 1:
        parts.append(f"{open_count} still open.")
    severity = min((o.severity for o in shown), key=lambda s: SEVERITY_RANK.get(s, 9))
    samples = tuple(
        {"alert_id": o.alert_id, "at": o.at.isoformat(), "message": o.message, "labels": o.labels}
        for o in shown[:3]
    )
    return Summary(
        event,
        title,
        message=" ".join(parts),
        severity=severity,
        count=count,
        first_at=first_at,
        latest_at=latest_at,
        samples=samples,
    )


def _who(acked: Sequence[Occurrence]) -> str:
    names = dict.fromkeys(o.actor or "someone" for o in acked)
    return ", ".join(names)
