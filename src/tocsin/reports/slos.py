"""SLOs read from the store: the indicator's bad and total over a span, the error budget left
over the SLO's window with its status, the burn rates of the SRE workbook's pairs, and the
budget's burn-down.

Availability reads the alerts of its check, heartbeat or service that overlap the window (a
few rows, by the alert indexes), never the evaluations; latency counts the check's stored
values in a range of the (check_name, at) index. An alert counts at its current severity
(one raised to HIGH counts from its start); Tocsin's own burn-rate alerts never count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.checks.models import CheckSample
from tocsin.config.slos import AvailabilitySliConfig, SloConfig
from tocsin.reports import budget
from tocsin.reports.budget import Interval

ORIGIN = "slo"  # the origin of burn-rate alerts
Measure = Callable[[datetime, datetime], tuple[float, float]]


def _intervals(
    session: Session, slo: SloConfig, sli: AvailabilitySliConfig, since: datetime, until: datetime
) -> list[Interval]:
    query = select(Alert.started_at, Alert.resolved_at, Alert.labels, Alert.origin).where(
        Alert.started_at < until,
        or_(Alert.resolved_at.is_(None), Alert.resolved_at > since),
        Alert.severity.in_(sli.severities),
        Alert.origin != ORIGIN,
    )
    if sli.check is not None:
        query = query.where(Alert.check_name == sli.check)
    elif sli.heartbeat is not None:
        query = query.where(Alert.origin == "heartbeat")
    found = []
    for start, end, labels, _origin in session.execute(query):
        if sli.heartbeat is not None and labels.get("heartbeat") != sli.heartbeat:
            continue
        if sli.check is None and sli.heartbeat is None and labels.get("service") != slo.service:
            continue
        found.append((start, end or until))
    return budget.merged(found)


def measure(session: Session, slo: SloConfig, since: datetime, until: datetime) -> Measure:
    """A function giving (bad, total) over any span within [since, until): seconds for
    availability (its alerts read once here), events for latency (one indexed count each)."""
    sli = slo.sli
    if isinstance(sli, AvailabilitySliConfig):
        intervals = _intervals(session, slo, sli, since, until)

        def seconds(lo: datetime, hi: datetime) -> tuple[float, float]:
            return budget.covered(intervals, lo, hi), max((hi - lo).total_seconds(), 0.0)

        return seconds

    def events(lo: datetime, hi: datetime) -> tuple[float, float]:
        row = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((CheckSample.value > sli.threshold, 1), else_=0)), 0),
            ).where(CheckSample.check_name == sli.check, CheckSample.at >= lo, CheckSample.at < hi)
        ).one()
        return float(row[1]), float(row[0])

    return events


@dataclass(frozen=True)
class Burn:
    """One pair's burn rates now, and whether both are at its factor or faster."""

    long: str
    short: str
    factor: float
    tier: str
    long_rate: float
    short_rate: float
    burning: bool


@dataclass(frozen=True)
class Reading:
    """An SLO as of one time."""

    name: str
    service: str
    kind: str  # availability | latency
    objective: float
    window: str  # like 30d, or month
    start: datetime
    end: datetime
    at: datetime
    unit: str  # seconds | events
    bad: float
    total: float
    attained: float | None  # the share good so far, like 0.9994
    budget_remaining: float  # the share of the budget left (negative when overspent)
    budget_minutes: float  # the window's whole budget, in minutes of bad time
    remaining_minutes: float
    status: budget.Status
    burns: list[Burn] = field(default_factory=list)
    description: str | None = None
    warning: float = 25.0  # the status is Warning at this percentage left or less

    @property
    def tiers(self) -> dict[str, bool]:
        """page / ticket: whether any of the tier's pairs burns."""
        out: dict[str, bool] = {}
        for burn in self.burns:
            out[burn.tier] = out.get(burn.tier, False) or burn.burning
        return out

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start", "end", "at"):
            data[key] = getattr(self, key).isoformat()
        data["budget_remaining_percent"] = round(100 * self.budget_remaining, 3)
        data["attained_percent"] = None if self.attained is None else 100 * self.attained
        data["burning"] = self.tiers
        return data


def _window_name(slo: SloConfig) -> str:
    if isinstance(slo.window, timedelta):
        days, rest = divmod(int(slo.window.total_seconds()), 86400)
        return f"{days}d" if not rest else f"{int(slo.window.total_seconds() // 3600)}h"
    return "month"


def read(session: Session, name: str, slo: SloConfig, now: datetime) -> Reading:
    """The SLO's budget over its window as of `now`, and its burn rates."""
    start, end = budget.window(slo.window, slo.timezone, now)
    span = measure(session, slo, min(start, now - budget.LONGEST), now)
    bad, total = span(start, now)
    whole = (end - start).total_seconds()
    if slo.sli.type == "availability":
        allowed = slo.budget * whole
        budget_minutes = allowed / 60
    else:
        allowed = slo.budget * total
        budget_minutes = slo.budget * whole / 60
    remaining = 1.0 - bad / allowed if allowed > 0 else 1.0
    burns = []
    for pair in budget.PAIRS:
        rates = [budget.burn_rate(*span(now - w, now), slo.budget) for w in (pair.long, pair.short)]
        burns.append(
            Burn(
                _span(pair.long),
                _span(pair.short),
                pair.factor,
                pair.tier,
                round(rates[0], 3),
                round(rates[1], 3),
                all(rate >= pair.factor for rate in rates),
            )
        )
    return Reading(
        name=name,
        service=slo.service,
        kind=slo.sli.type,
        objective=slo.objective,
        window=_window_name(slo),
        start=start,
        end=end,
        at=now,
        unit="seconds" if slo.sli.type == "availability" else "events",
        bad=bad,
        total=total,
        attained=1 - bad / total if total > 0 else None,
        budget_remaining=remaining,
        budget_minutes=round(budget_minutes, 3),
        remaining_minutes=round(remaining * budget_minutes, 3),
        status=budget.status(remaining, slo.warning),
        burns=burns,
        description=slo.description,
        warning=slo.warning,
    )


def _span(width: timedelta) -> str:
    seconds = int(width.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


def burn_down(
    session: Session, slo: SloConfig, now: datetime, points: int = 30
) -> list[tuple[datetime, float]]:
    """The budget left, in percent, at `points` even steps from the window's start to now."""
    start, end = budget.window(slo.window, slo.timezone, now)
    span = measure(session, slo, start, now)
    whole = (end - start).total_seconds()
    out = []
    for i in range(points + 1):
        at = start + (now - start) * i / points
        bad, total = span(start, at)
        allowed = slo.budget * (whole if slo.sli.type == "availability" else total)
        out.append((at, 100.0 * (1 - bad / allowed) if allowed > 0 else 100.0))
    return out
