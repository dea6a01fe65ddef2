"""The console's reports: the finished runs, newest first, and one run as it was stored —
its sections, figures and SLOs, with each chart drawn again from the stored figures as SVG
(PNG on request: the link a chat post carries). Reads only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from tocsin.errors import NotFound
from tocsin.reports import service
from tocsin.reports.charts import charts_of
from tocsin.reports.render import figure_lines, slo_lines
from tocsin.reports.schemas import run_summary
from tocsin.web.console_core import Operator, Refused, page, signed_in
from tocsin.web.deps import AppSettings, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
RunId = Annotated[int, Path(ge=1, le=2**62)]
SHOWN = 100
TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _section(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored section as the page shows it: its lines, or its rows as a table."""
    figures = stored.get("figures") or {}
    rows = stored.get("rows") or []
    if "slos" in figures:
        lines = slo_lines(figures)
    elif figures:
        lines = figure_lines(figures)
    else:
        lines = []
    return {
        "title": stored.get("title", ""),
        "level": stored.get("level", "ok"),
        "error": stored.get("error"),
        "lines": [line.lstrip(" -") for line in lines],
        "columns": list(rows[0]) if rows else [],
        "rows": rows,
        "charts": [],
    }


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    settings: AppSettings,
    who: Viewer,
    report: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    runs = await read_only(
        settings, lambda s: [run_summary(r) for r in service.list_(s, report or None, SHOWN)]
    )
    return page(
        "console/reports.html",
        operator=who,
        runs=runs,
        names=sorted(settings.config.reports),
        report=report or "",
        active="reports",
    )


@router.get("/reports/runs/{run_id}", response_class=HTMLResponse)
async def run_page(settings: AppSettings, who: Viewer, run_id: RunId) -> HTMLResponse:
    def work(session: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        run = service.get(session, run_id)
        return run_summary(run), run.figures or {}

    try:
        summary, figures = await read_only(settings, work)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    stored = figures.get("sections", [])
    sections = [_section(s) for s in stored]
    for chart in charts_of(stored):
        sections[chart.section]["charts"].append(
            {"href": f"/reports/runs/{run_id}/charts/{chart.slug}", "title": chart.title}
        )
    return page(
        "console/report.html", operator=who, run=summary, sections=sections, active="reports"
    )


@router.get("/reports/runs/{run_id}/charts/{name}.{fmt}")
async def chart(
    settings: AppSettings,
    _who: Viewer,
    run_id: RunId,
    name: Annotated[str, Path(max_length=200)],
    fmt: Literal["svg", "png"],
) -> Response:
    figures = await read_only(settings, lambda s: service.get(s, run_id).figures or {})
    for found in charts_of(figures.get("sections", [])):
        if found.slug == name:
            drawn = found.draw(fmt)
            return Response(drawn, media_type=TYPES[fmt], headers={"Cache-Control": "private"})
    raise NotFound(f"run {run_id} has no chart {name!r}")
