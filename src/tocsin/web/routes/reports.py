"""Reports under `/api/v1/reports` with the read scope: the configured reports, their
finished runs, and one run as stored (the console renders the same `run_detail`); SLOs and
their error budgets under `/api/v1/slos`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.checks.sources import open_source
from tocsin.checks.sources.base import Source
from tocsin.errors import Invalid, NotFound
from tocsin.reports import service, slos
from tocsin.reports.runs import run_now
from tocsin.reports.schemas import run_detail, run_summary
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader, Writer, read_only
from tocsin.web.schemas import (
    ReportOut,
    ReportRunDetailOut,
    ReportRunOut,
    SloOut,
    errors,
)

router = APIRouter(tags=["reports"])
Row = dict[str, Any]


@router.get(
    "/api/v1/reports",
    summary="Every configured report, its next run and its last status",
    response_model=list[ReportOut],
    responses=paging.responses(400),
    dependencies=[KnownQuery],
)
async def list_reports(settings: AppSettings, _who: Reader, page: paging.Listing) -> list[Row]:
    reports = settings.config.reports

    def work(session: Session) -> list[Row]:
        following = service.next_due(session)
        last: dict[str, Any] = {}
        for run in service.list_(session, limit=500):
            last.setdefault(run.report_name, run)
        return [
            {
                "name": name,
                "title": spec.title or name,
                "schedule": f"{spec.schedule.cron} {spec.schedule.timezone}",
                "channels": spec.channels,
                "enabled": spec.enabled,
                "next_run_at": following.get(name),
                "last_run_id": last[name].id if name in last else None,
                "last_status": last[name].status if name in last else None,
            }
            for name, spec in reports.items()
        ]

    return page.sliced(await read_only(settings, work))


@router.get(
    "/api/v1/reports/runs",
    summary="Finished runs, newest first",
    response_model=list[ReportRunOut],
    responses=paging.responses(400),
    dependencies=[KnownQuery],
)
async def list_runs(
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
    report: Annotated[str | None, Query(max_length=100, description="One report's")] = None,
) -> list[Row]:
    rows = await read_only(
        settings, lambda s: [run_summary(r) for r in service.list_(s, report, limit=1000)]
    )
    return page.sliced(rows)


@router.get(
    "/api/v1/reports/runs/{run_id}",
    summary="One run as stored: its Markdown, status, figures and hash",
    response_model=ReportRunDetailOut,
    responses=errors(400, 404),
    dependencies=[KnownQuery],
)
async def show_run(
    settings: AppSettings, _who: Reader, run_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Row:
    return await read_only(settings, lambda s: run_detail(service.get(s, run_id)))


class RunCreate(BaseModel):
    """A run asked for by hand."""

    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime | None = Field(
        default=None, description="as of this time, with its offset (default: now)"
    )
    post: bool = Field(default=False, description="post it to the report's channels too")


@router.post(
    "/api/v1/reports/{name}/runs",
    summary="Run a report now (or as of `at`), store the run, and post it when asked",
    status_code=201,
    response_model=ReportRunDetailOut,
    responses=errors(400, 404, 413),
    dependencies=[KnownQuery],
)
async def create_run(
    settings: AppSettings,
    _who: Writer,
    name: Annotated[str, Path(max_length=100)],
    body: RunCreate | None = None,
) -> Row:
    wanted = body or RunCreate()
    config = settings.config
    if name not in config.reports:
        known = ", ".join(sorted(config.reports)) or "none are configured"
        raise NotFound(f"report {name!r} does not exist (known: {known})")
    if wanted.at is not None and wanted.at > settings.clock.now():
        raise Invalid(f"at: {wanted.at.isoformat()} is in the future")
    opened: dict[str, Source] = {}

    def source(source_name: str) -> Source:
        if source_name not in opened:
            spec = config.sources[source_name]
            opened[source_name] = open_source(spec, egress=config.egress)
        return opened[source_name]

    def work() -> int:
        try:
            _, run_id = run_now(
                settings.factory,
                config,
                settings.clock,
                name,
                wanted.at,
                source,
                send=wanted.post,
            )
        finally:
            for opened_source in opened.values():
                opened_source.close()
        return run_id

    run_id = await run_in_threadpool(work)
    return await read_only(settings, lambda s: run_detail(service.get(s, run_id)))


@router.get(
    "/api/v1/slos",
    summary="Every SLO's error budget, status and burn rates as of now",
    response_model=list[SloOut],
    responses=paging.responses(400),
    dependencies=[KnownQuery],
)
async def list_slos(settings: AppSettings, _who: Reader, page: paging.Listing) -> list[Row]:
    configured = settings.config.slos
    now = settings.clock.now()
    rows = await read_only(
        settings,
        lambda s: [slos.read(s, n, slo, now).as_dict() for n, slo in sorted(configured.items())],
    )
    return page.sliced(rows)


@router.get(
    "/api/v1/slos/{name}",
    summary="One SLO's error budget, status and burn rates as of now",
    response_model=SloOut,
    responses=errors(400, 404),
    dependencies=[KnownQuery],
)
async def show_slo(
    settings: AppSettings, _who: Reader, name: Annotated[str, Path(max_length=100)]
) -> Row:
    slo = settings.config.slos.get(name)
    if slo is None:
        known = ", ".join(sorted(settings.config.slos)) or "none are configured"
        raise NotFound(f"SLO {name!r} does not exist (known: {known})")
    now = settings.clock.now()
    return await read_only(settings, lambda s: slos.read(s, name, slo, now).as_dict())
