"""A report's content as of one time: each section's rows or figures, its level (ok, WARNING,
CRITICAL) from the thresholds, and the report's status; then its stored form (`outcome`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tocsin.checks.evaluate import resolve_params
from tocsin.checks.sources.base import Source
from tocsin.config.reports import (
    FiguresSectionConfig,
    QuerySectionConfig,
    ReportConfig,
    SlosSectionConfig,
)
from tocsin.config.slos import SloConfig
from tocsin.db import read_scope
from tocsin.errors import SourceError
from tocsin.expressions import ExpressionError, evaluate
from tocsin.reports import budget, slos
from tocsin.reports import figures as own
from tocsin.reports.service import Outcome

LEVELS = ("ok", "WARNING", "CRITICAL")
ROW_CAP = 200  # rows a section keeps: a report is read, not scrolled


@dataclass(frozen=True)
class Section:
    title: str
    kind: str  # query | figures | slos
    level: str  # ok | WARNING | CRITICAL
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    error: str | None = None
    cut: int = 0  # rows left out beyond ROW_CAP


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    at: datetime
    sections: list[Section]
    mention: str | None = None
    zone: str = "UTC"  # where its time is shown (the schedule's)

    @property
    def level(self) -> str:
        return max((s.level for s in self.sections), key=LEVELS.index, default="ok")

    @property
    def status(self) -> str:
        """`healthy`, or `needs_attention` when any section is WARNING, CRITICAL or failed."""
        bad = self.level != "ok" or any(s.error for s in self.sections)
        return "needs_attention" if bad else "healthy"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["status"], data["level"] = self.status, self.level
        return data


def plain(value: Any) -> Any:
    """A column's value as JSON can hold it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _level(section: QuerySectionConfig, rows: list[dict[str, Any]]) -> str:
    for level, test in (
        ("CRITICAL", section.thresholds.critical),
        ("WARNING", section.thresholds.warning),
    ):
        if test is not None and any(evaluate(test, row) for row in rows):
            return level
    return "ok"


def query_section(
    section: QuerySectionConfig, source: Source, at: datetime, zone: str = "UTC"
) -> Section:
    """Run the section's query as of `at` (outside any transaction of Tocsin's) and judge
    its rows."""
    try:
        params = resolve_params(section.params, at, zone)
        raw = source.fetch(section.query_for(source.dialect), params)
    except SourceError as exc:
        return Section(section.title, "query", "ok", note=section.note, error=str(exc))
    rows = [{key: plain(value) for key, value in row.items()} for row in raw]
    columns = list(rows[0]) if rows else []
    try:
        level = _level(section, rows)
    except ExpressionError as exc:
        return Section(
            section.title, "query", "ok", columns, rows[:ROW_CAP], note=section.note, error=str(exc)
        )
    return Section(
        section.title,
        "query",
        level,
        columns,
        rows[:ROW_CAP],
        note=section.note,
        cut=max(0, len(rows) - ROW_CAP),
    )


def build(
    name: str,
    report: ReportConfig,
    at: datetime,
    factory: sessionmaker[Session],
    source: Callable[[str], Source],
    configured: Mapping[str, SloConfig] | None = None,
) -> Report:
    """The report as of `at`: each query section on its source, each figures or SLO section
    in a read-only transaction of Tocsin's store (SLOs from `configured`)."""
    sections: list[Section] = []
    for spec in report.sections:
        if isinstance(spec, QuerySectionConfig):
            try:
                opened = source(spec.source)
            except SourceError as exc:
                sections.append(Section(spec.title, "query", "ok", error=str(exc)))
                continue
            sections.append(query_section(spec, opened, at, report.schedule.timezone))
        elif isinstance(spec, SlosSectionConfig):
            sections.append(slos_section(spec, at, factory, configured or {}))
        else:
            sections.append(figures_section(spec, at, factory))
    shown = report.mention if isinstance(report.mention, str) else None
    return Report(name, report.title or name, at, sections, shown, report.schedule.timezone)


def figures_section(
    spec: FiguresSectionConfig, at: datetime, factory: sessionmaker[Session]
) -> Section:
    with read_scope(factory) as session:
        found = own.compute(session, spec, at - spec.window, at)
    return Section(spec.title, "figures", "ok", figures=found)


BURN_POINTS = 30  # points of a burn-down: one a day over a 30-day window


def slos_section(
    spec: SlosSectionConfig,
    at: datetime,
    factory: sessionmaker[Session],
    configured: Mapping[str, SloConfig],
) -> Section:
    """Each SLO's reading as of `at`, with its burn-down points (stored with the run, so its
    chart can be drawn again later without the store's history)."""
    names = spec.slos if spec.slos is not None else sorted(configured)
    found: list[dict[str, Any]] = []
    with read_scope(factory) as session:
        for name in names:
            slo = configured.get(name)
            if slo is None:
                continue  # removed from the configuration since it was checked
            reading = slos.read(session, name, slo, at).as_dict()
            if spec.charts:
                points = slos.burn_down(session, slo, at, BURN_POINTS)
                start, end = budget.window(slo.window, slo.timezone, at)
                reading["burn_down"] = [[t.isoformat(), round(v, 3)] for t, v in points]
                reading["even_burn"] = [
                    [t.isoformat(), v] for t, v in budget.even_burn(start, end, BURN_POINTS)
                ]
            found.append(reading)
    statuses = {r["status"] for r in found}
    level = (
        "CRITICAL"
        if "Budget Exceeded" in statuses
        else "WARNING"
        if "Warning" in statuses
        else "ok"
    )
    return Section(spec.title, "slos", level, figures={"slos": found})


def outcome(report: Report, content: str) -> Outcome:
    """The stored form: the Markdown, the status, the figures as JSON, and a hash of both
    (two runs over the same data hash alike)."""
    figures = {
        "status": report.status,
        "level": report.level,
        "sections": [
            {
                "title": s.title,
                "level": s.level,
                "error": s.error,
                "rows": s.rows,
                "figures": s.figures,
            }
            for s in report.sections
        ],
    }
    digest = hashlib.sha256()
    digest.update(content.encode())
    digest.update(json.dumps(figures, sort_keys=True, default=str).encode())
    return Outcome(report.status, content, figures, digest.hexdigest())
