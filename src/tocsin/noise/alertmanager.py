"""Noise control as Alertmanager's API v2 shows it, so amtool and Alertmanager's own clients
can manage Tocsin's silences and see which alerts are muted:

- a silence in the `gettableSilence` shape (matchers as `name`, `value`, `isRegex`,
  `isEqual`; `status.state` active | pending | expired), listed in Alertmanager's order;
- `filter` matchers applied as Alertmanager applies them (to a silence's matchers read as
  a label set, or to an alert's labels);
- an alert's `status`: `suppressed` with `silencedBy` (silence ids) or `inhibitedBy` (the
  inhibiting alerts' fingerprints) when noise control holds it back. Tocsin's other
  reasons (maintenance, known issue, flapping) have no field in Alertmanager's shape; they
  show as `suppressed` with `mutedBy` naming them (`maintenance:ID`), as Alertmanager 0.27
  names mute time intervals there.

Everything here is pure except `muted_in_force`, which reads what `screen` recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.matchers import Matcher, parse_matcher
from tocsin.noise.common import parsed, status_of
from tocsin.noise.models import MutedAlert, Silence


def text(max_length: int, min_length: int = 0) -> StringConstraints:
    """A text field's bounds, and no NUL character (PostgreSQL's text cannot hold one)."""
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=r"^[^\x00]*$")


Text = Annotated[str, text(10_000)]
# Alertmanager keeps expired silences for its `--data.retention` (120h by default); the
# listing shows them as long, though Tocsin's store keeps them for good.
RETENTION_SECONDS = 120 * 3600
_OPS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


class PostableMatcher(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, text(200, min_length=1)]
    value: Text
    isRegex: bool  # the wire format's names
    isEqual: bool = True


class PostableSilence(BaseModel):
    """`POST /api/v2/silences`: a new silence, or with `id` a change to one."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, text(36)] | None = None
    matchers: list[PostableMatcher] = Field(min_length=1, max_length=100)
    startsAt: AwareDatetime
    endsAt: AwareDatetime
    createdBy: Annotated[str, text(100)]
    comment: Text


def matcher_texts(matchers: Iterable[PostableMatcher]) -> list[str]:
    """Alertmanager's matcher objects as Tocsin's matcher texts; Invalid on a bad one."""
    return [
        str(Matcher.make(m.name, _OPS[(m.isRegex, m.isEqual)], m.value))  # type: ignore[arg-type]
        for m in matchers
    ]


def gettable_silence(silence: Silence, now: datetime) -> dict[str, Any]:
    return {
        "id": silence.id,
        "status": {"state": status_of(silence, now)},
        "updatedAt": silence.updated_at.isoformat(),
        "matchers": [
            {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
            for m in parsed(silence.matchers)
        ],
        "startsAt": silence.starts_at.isoformat(),
        "endsAt": silence.ends_at.isoformat(),
        "createdBy": silence.created_by,
        "comment": silence.comment,
    }


def parse_filters(texts: Sequence[str] | None) -> list[Matcher]:
    """`filter` query values (`alertname="x"`, `{a="b"}` too); Invalid names a bad one."""
    return [parse_matcher(text) for text in texts or ()]


def filter_matches(filters: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    """Alertmanager's filter test: a filter with an empty value passes where the label is
    absent (`=`, `=~`) or present (`!=`, `!~`); otherwise the filter must match the value."""
    for matcher in filters:
        present = matcher.name in labels
        if matcher.value == "" and present != matcher.is_equal:
            continue
        if not matcher.matches(labels):
            return False
    return True


def silence_labels(silence: Silence) -> dict[str, str]:
    """A silence's matchers read as a label set, which Alertmanager filters silences by."""
    return {m.name: m.value for m in parsed(silence.matchers)}


def listed(silences: Iterable[Silence], now: datetime) -> list[Silence]:
    """Alertmanager's order: active ones ending soonest first, then pending ones starting
    soonest, then expired ones (within the retention), most recently ended first."""
    rank = {"active": 0, "pending": 1, "expired": 2}
    rows = [
        s
        for s in silences
        if status_of(s, now) != "expired" or (now - s.ends_at).total_seconds() <= RETENTION_SECONDS
    ]

    def key(s: Silence) -> tuple[int, float]:
        state = status_of(s, now)
        at = {"active": s.ends_at, "pending": s.starts_at, "expired": s.ends_at}[state]
        return rank[state], -at.timestamp() if state == "expired" else at.timestamp()

    return sorted(rows, key=key)


def alert_status(mute: tuple[str, str] | None) -> dict[str, Any]:
    """An alert's `status` given what mutes it now (kind, id), if anything."""
    if mute is None:
        return {"state": "active", "silencedBy": [], "inhibitedBy": [], "mutedBy": []}
    kind, ref = mute
    return {
        "state": "suppressed",
        "silencedBy": [ref] if kind == "silence" else [],
        "inhibitedBy": [ref] if kind == "inhibition" else [],
        "mutedBy": [] if kind in ("silence", "inhibition") else [f"{kind}:{ref}"],
    }


def muted_in_force(session: Session, now: datetime) -> dict[int, tuple[str, str]]:
    """Alert id → (kind, id) of what holds its events back now. A row whose re-check is due
    (its silence or window ended, its inhibitor resolved) no longer counts: the worker's
    next pass notifies it. An inhibition names the inhibiting alert's fingerprint."""
    rows = session.execute(
        select(MutedAlert.alert_id, MutedAlert.kind, MutedAlert.ref).where(
            or_(MutedAlert.recheck_at.is_(None), MutedAlert.recheck_at > now)
        )
    ).all()
    sources = [int(ref) for _, kind, ref in rows if kind == "inhibition" and ref.isdigit()]
    fingerprints: dict[int, str] = {}
    if sources:
        query = select(Alert.id, Alert.fingerprint).where(Alert.id.in_(sources))
        fingerprints = {alert_id: fp for alert_id, fp in session.execute(query)}
    out = {}
    for alert_id, kind, ref in rows:
        if kind == "inhibition":
            ref = fingerprints.get(int(ref), ref) if ref.isdigit() else ref
        out[alert_id] = (kind, ref)
    return out
