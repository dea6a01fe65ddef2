"""The console's checks: each configured check with its schedule and last evaluation, and a
check's page with its recent evaluations and a small SVG chart of its value over time
against the thresholds its conditions compare with. Reads only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.checks.models import CheckSchedule, Evaluation
from tocsin.config.checks import CheckConfig
from tocsin.heartbeats.schedule import span
from tocsin.web.console_core import Operator, Refused, page, signed_in
from tocsin.web.deps import AppSettings, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
RECENT = 20  # evaluations listed
CHARTED = 120  # evaluations charted
SERIES = 5  # lines at most (a check returning many rows charts its first five)
WIDTH, HEIGHT, PAD = 640, 160, 4
COLOURS = ("#1f5fa8", "#8a6d00", "#2e7d32", "#6a1b9a", "#00838f")
SEVERITY_COLOURS = {
    "CRITICAL": "#b00020",
    "HIGH": "#d84315",
    "WARNING": "#8a6d00",
    "INFO": "#1f5fa8",
}
Point = tuple[datetime, str, float]  # when, which series, the value
_THRESHOLD = re.compile(r"^\s*(>=|>|<=|<|==)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Chart:
    """An SVG chart as plain shapes for the template (no inline style: the CSP forbids it)."""

    lines: list[dict[str, str]]
    thresholds: list[dict[str, Any]]
    low: float
    high: float
    start: datetime | None
    end: datetime | None

    @property
    def empty(self) -> bool:
        return not self.lines


def thresholds(check: CheckConfig) -> list[tuple[str, float]]:
    """The (severity, number) of each condition that compares the value with a constant."""
    out = []
    for condition in check.conditions:
        found = _THRESHOLD.match(condition.when)
        if found:
            out.append((str(condition.severity), float(found.group(2))))
    return out


def chart(points: Sequence[Point], limits: Sequence[tuple[str, float]]) -> Chart:
    """Lines of (time, series, value) points, oldest first, scaled to the box with the
    thresholds inside it; a series is a result row's fingerprint."""
    series: dict[str, list[tuple[datetime, float]]] = {}
    for at, key, value in points:
        if key in series or len(series) < SERIES:
            series.setdefault(key, []).append((at, value))
    if not series:
        return Chart([], [], 0, 0, None, None)
    values = [v for line in series.values() for _, v in line] + [n for _, n in limits]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    times = [at for line in series.values() for at, _ in line]
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return PAD + (WIDTH - 2 * PAD) * (at - start).total_seconds() / span

    def y(value: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / (high - low)

    lines = [
        {
            "points": " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in line),
            "colour": COLOURS[i % len(COLOURS)],
        }
        for i, line in enumerate(series.values())
    ]
    marks = [
        {"y": f"{y(n):.1f}", "value": n, "severity": s, "colour": SEVERITY_COLOURS.get(s, "#555")}
        for s, n in limits
    ]
    return Chart(lines, marks, low, high, start, end)


def schedule_text(check: CheckConfig) -> str:
    """`every 1m`, or `cron '*/5 * * * *' Europe/Paris`."""
    if check.schedule.every is not None:
        return f"every {span(check.schedule.every)}"
    return f"cron '{check.schedule.cron}' {check.schedule.timezone}"


def _overview(session: Session, names: list[str]) -> dict[str, dict[str, Any]]:
    schedules = {
        s.check_name: s
        for s in session.scalars(select(CheckSchedule).where(CheckSchedule.check_name.in_(names)))
    }
    # One look-up per check through ix_evaluation_check_started (a year of a check that
    # runs every minute is half a million rows: never group or sort them all).
    last = {}
    for name in names:
        found = session.scalar(
            select(Evaluation)
            .where(Evaluation.check_name == name)
            .order_by(Evaluation.started_at.desc(), Evaluation.id.desc())
            .limit(1)
        )
        if found is not None:
            last[name] = found
    out = {}
    for name in names:
        schedule, evaluation = schedules.get(name), last.get(name)
        out[name] = {
            "next_run_at": schedule.next_run_at if schedule else None,
            "errors": schedule.consecutive_errors if schedule else 0,
            "last": None if evaluation is None else _evaluation(evaluation),
        }
    return out


def _evaluation(row: Evaluation) -> dict[str, Any]:
    results = row.results or []
    worst = next((r["severity"] for r in results if r.get("severity")), None)
    values = [r.get("value") for r in results if r.get("value") is not None]
    return {
        "at": row.started_at,
        "status": row.status,
        "error": row.error,
        "duration_ms": row.duration_ms,
        "rows": len(results),
        "severity": worst,
        "value": values[0] if len(values) == 1 else None,
        "values": values[:SERIES],
    }


@router.get("/checks")
async def checks_page(settings: AppSettings, who: Viewer) -> Any:
    checks = sorted(settings.config.checks, key=lambda c: c.name)
    names = [c.name for c in checks]
    shown = await read_only(settings, lambda s: _overview(s, names))
    return page(
        "console/checks.html",
        operator=who,
        checks=checks,
        shown=shown,
        schedule_text=schedule_text,
        active="checks",
    )


@router.get("/checks/{name}")
async def check_page(name: str, settings: AppSettings, who: Viewer) -> Any:
    check = next((c for c in settings.config.checks if c.name == name), None)
    if check is None:
        raise Refused(404, "no such check in the configuration")

    def work(session: Session) -> tuple[list[Point], list[dict[str, Any]]]:
        rows = session.scalars(
            select(Evaluation)
            .where(Evaluation.check_name == name)
            .order_by(Evaluation.started_at.desc(), Evaluation.id.desc())
            .limit(CHARTED)
        ).all()
        points = [
            (row.started_at, str(r.get("fingerprint") or ""), float(r["value"]))
            for row in reversed(rows)
            for r in (row.results or [])
            if isinstance(r.get("value"), int | float)
        ]
        return points, [_evaluation(r) for r in rows[:RECENT]]

    points, recent = await read_only(settings, work)
    drawn = chart(points, thresholds(check))
    return page(
        "console/check.html",
        operator=who,
        check=check,
        schedule=schedule_text(check),
        recent=recent,
        chart=drawn,
        size={"width": WIDTH, "height": HEIGHT},
        active="checks",
    )
