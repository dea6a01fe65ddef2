"""`tocsin check replay`: a check's stored values run again through its conditions with
another `for`, to show how many pages a change would drop and how many incidents it would
have missed — the alert-quality ledger's question "would a longer hold have kept us quiet?".

The values are the check's stored samples (one per series per evaluation), replayed in time
order per series through the same pure core the worker uses (`ladder_severity`, with its
hysteresis, then `apply_for`), once as configured and once with the change. A page is an
alert opening; an incident is missed when an alert of the check linked to an incident
overlaps no alert of the replay with the change. Conditions that read other columns than the
value, and baseline checks, cannot be replayed from values alone and are refused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.checks.models import CheckSample
from tocsin.checks.verdict import apply_for, ladder_severity
from tocsin.config.checks import CheckConfig
from tocsin.errors import Invalid
from tocsin.expressions import ExpressionError
from tocsin.incidents.models import IncidentAlert

Span = tuple[datetime, datetime | None]


def pages(
    check: CheckConfig, values: Sequence[tuple[datetime, float]], hold: timedelta
) -> list[Span]:
    """The alerts one series' values would open with `hold` as the check's `for`: each as
    (opened, resolved or None while still open at the end)."""
    out: list[Span] = []
    previous: str | None = None
    pending: tuple[str, datetime] | None = None
    for at, value in values:
        variables: dict[str, Any] = {
            "value": value,
            "current": value,
            "baseline": None,
            "labels": {},
        }
        try:
            raw = ladder_severity(check.conditions, variables, previous)
        except ExpressionError as exc:
            raise Invalid(
                f"check {check.name!r} cannot be replayed from its values: {exc}"
            ) from None
        severity, since = apply_for(raw, previous, pending, hold, at)
        if previous is None and severity is not None:
            out.append((at, None))
        elif previous is not None and severity is None:
            out[-1] = (out[-1][0], at)
        previous = severity
        pending = (raw, since) if raw is not None and since is not None else None
    return out


@dataclass(frozen=True)
class Replay:
    check: str
    since: datetime
    until: datetime
    series: int
    values: int
    hold_now: timedelta
    hold_then: timedelta
    pages_now: int
    pages_then: int
    incidents: int  # alerts of the check linked to an incident in the span
    missed: int  # of them, overlapped by no alert of the replay with the change

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "series": self.series,
            "values": self.values,
            "for_now": self.hold_now.total_seconds(),
            "for_then": self.hold_then.total_seconds(),
            "pages_now": self.pages_now,
            "pages_then": self.pages_then,
            "pages_dropped": self.pages_now - self.pages_then,
            "incidents": self.incidents,
            "incidents_missed": self.missed,
        }


def _overlaps(span: Span, spans: Iterable[Span], until: datetime) -> bool:
    start, end = span[0], span[1] or until
    return any(s <= end and (e or until) >= start for s, e in spans)


def replay(
    session: Session, check: CheckConfig, hold: timedelta, since: datetime, until: datetime
) -> Replay:
    """Replay `check` over [since, until) as configured and with `hold` as its `for`."""
    if check.baseline is not None or check.firing_column is not None or not check.conditions:
        raise Invalid(
            f"check {check.name!r} cannot be replayed from its values: it compares with a "
            "baseline or reads its severity from columns"
        )
    rows = session.execute(
        select(CheckSample.fingerprint, CheckSample.at, CheckSample.value)
        .where(
            CheckSample.check_name == check.name, CheckSample.at >= since, CheckSample.at < until
        )
        .order_by(CheckSample.at, CheckSample.id)
    ).all()
    series: dict[str, list[tuple[datetime, float]]] = {}
    for fp, at, value in rows:
        series.setdefault(fp, []).append((at, value))
    now_spans: list[Span] = []
    then_spans: dict[str, list[Span]] = {}
    for fp, values in series.items():
        now_spans += pages(check, values, check.for_)
        then_spans[fp] = pages(check, values, hold)
    linked = session.execute(
        select(Alert.fingerprint, Alert.started_at, Alert.resolved_at)
        .join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(Alert.check_name == check.name, Alert.started_at >= since, Alert.started_at < until)
        .distinct()
    ).all()
    missed = sum(
        1 for fp, start, end in linked if not _overlaps((start, end), then_spans.get(fp, []), until)
    )
    return Replay(
        check=check.name,
        since=since,
        until=until,
        series=len(series),
        values=len(rows),
        hold_now=check.for_,
        hold_then=hold,
        pages_now=len(now_spans),
        pages_then=sum(len(spans) for spans in then_spans.values()),
        incidents=len(linked),
        missed=missed,
    )
