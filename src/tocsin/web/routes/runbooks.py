"""Runbooks: the pages every notification links to (`/runbooks/{id}`, no token: a phone opens
them from a page), and their JSON under `/api/v1` with the read scope.

The pages are served under a Content-Security-Policy that allows no script and no inline
style: Markdown is rendered with raw HTML off and unsafe links left as text (runbooks.render),
the template is autoescaped, and the stylesheet is a file of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tocsin import actions
from tocsin.actions.runbooks import Selection
from tocsin.console import accounts, sessions
from tocsin.errors import Invalid, NotFound
from tocsin.runbooks import runs
from tocsin.runbooks.render import to_html
from tocsin.runbooks.schemas import RunbookOut, RunbookSummaryOut, RunOut, detail, run_out, summary
from tocsin.runbooks.service import Catalog, catalog
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader, Writer, in_transaction, read_only
from tocsin.web.schemas import errors

router = APIRouter(tags=["runbooks"])
_HERE = Path(__file__).parent.parent
_pages = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
# X-Frame-Options, Referrer-Policy and nosniff come with every page (`tocsin.web.pages`);
# a runbook's own policy widens img-src to the images its Markdown links.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


async def _catalog(settings: AppSettings) -> Catalog:
    # Reading the folder touches the disk (once per edit; catalog() caches): off the loop.
    return await run_in_threadpool(catalog, settings.config.runbooks.path)


def _page(status: int, template: str, **values: Any) -> HTMLResponse:
    html = _pages.get_template(template).render(**values)
    return HTMLResponse(html, status, headers=PAGE_HEADERS)


@router.get("/runbooks", response_class=HTMLResponse, summary="Every runbook, as a page")
async def index(settings: AppSettings) -> HTMLResponse:
    found = await _catalog(settings)
    return _page(200, "runbooks.html", runbooks=[summary(r) for r in found.runbooks])


@router.get("/runbooks/assets/runbook.css", include_in_schema=False)
async def stylesheet() -> Response:
    css = (_HERE / "templates" / "runbook.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


IncidentQuery = Annotated[
    str | None,
    Query(
        pattern=r"^INC-\d{4}-\d{2}-\d{2}-\d{3,6}$",
        description="show the steps' last outputs for this incident (signed-in operators only)",
    ),
]


@router.get("/runbooks/{runbook_id}", response_class=HTMLResponse, summary="A runbook's page")
async def page(
    runbook_id: str, request: Request, settings: AppSettings, incident: IncidentQuery = None
) -> HTMLResponse:
    found = await _catalog(settings)
    try:
        runbook = found.get(runbook_id)
    except NotFound as exc:
        return _page(404, "runbooks.html", missing=str(exc), runbooks=[])
    outputs: list[RunOut] | None = None
    checklist: list[dict[str, Any]] = []
    sign_in = None
    if incident is not None:
        # Outputs are the incident's data (rows of the shop's tables): a signed-in operator's
        # only, while the runbook itself stays open to a phone without a session.
        if await _signed_in(request, settings):
            last, people = await read_only(
                settings,
                lambda s: (
                    _last(s, incident, runbook.id),
                    actions.runbooks.ticked(s, incident, runbook.id),
                ),
            )
            outputs, checklist = last, _checklist(runbook, last, people)
        else:
            sign_in = f"/login?next={quote(f'/runbooks/{runbook.id}?incident={incident}')}"
    return _page(
        200,
        "runbook.html",
        runbook=detail(runbook),
        sections=runbook.sections,
        body=to_html(runbook),
        incident=incident,
        outputs=outputs,
        checklist=checklist,
        sign_in=sign_in,
    )


def _last(session: Any, incident: str, runbook_id: str) -> list[RunOut]:
    latest = runs.last_outputs(session, incident, runbook_id)
    return [run_out(latest[line]) for line in sorted(latest)]


def _checklist(runbook: Any, outputs: list[RunOut], people: dict[int, str]) -> list[dict[str, Any]]:
    """The Verification Steps for this incident: an item is ticked by a person (`tocsin
    runbook tick`), or when the last run of each of its blocks succeeded (every `test:`
    held), or in the file itself."""
    last = {run.line: run for run in outputs}
    items = []
    for number, item in enumerate(runbook.verification, 1):
        runs_ = [last.get(block.line) for block in item.blocks]
        passed = bool(runs_) and all(r is not None and r.state == "succeeded" for r in runs_)
        by = ", ".join(f"run {r.id}" for r in runs_ if r is not None) if passed else None
        if number in people:
            by = f"ticked by {people[number]}"
        ticked = item.checked or passed or number in people
        items.append({"text": item.text, "ticked": ticked, "by": by})
    return items


async def _signed_in(request: Request, settings: AppSettings) -> bool:
    cookie = request.cookies.get("tocsin_session")
    if not cookie:
        return False
    now = settings.clock.now()
    found = await in_transaction(settings, lambda s: sessions.find(s, cookie, now))
    return found is not None and accounts.role_of(settings.config, found.user_name) is not None


@router.get(
    "/api/v1/runbooks",
    summary="Every runbook, summarised, by id",
    response_model=list[RunbookSummaryOut],
    responses=paging.responses(400),
    dependencies=[KnownQuery],
)
async def list_runbooks(
    settings: AppSettings, _who: Reader, page: paging.Listing
) -> list[RunbookSummaryOut]:
    found = await _catalog(settings)
    return page.sliced([summary(r) for r in found.runbooks])


@router.get(
    "/api/v1/runbooks/{runbook_id}",
    summary="One runbook: front matter, sections, steps and their blocks, checklist",
    response_model=RunbookOut,
    responses=errors(400, 404),
    dependencies=[KnownQuery],
)
async def show_runbook(runbook_id: str, settings: AppSettings, _who: Reader) -> RunbookOut:
    found = await _catalog(settings)
    return detail(found.get(runbook_id))


class RunCreate(BaseModel):
    """Which blocks to run for which incident: one step, every step, or the checklist's."""

    model_config = ConfigDict(extra="forbid")

    incident: str = Field(pattern=r"^INC-\d{4}-\d{2}-\d{2}-\d{3,6}$")
    step: int | None = Field(default=None, ge=1, le=1000, description="one step's blocks")
    all: bool = Field(default=False, description="every step's blocks, in order")
    verification: bool = Field(default=False, description="the Verification Steps' blocks")
    params: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")],
        Annotated[str, Field(max_length=1000)],
    ] = Field(default_factory=dict, max_length=50, description="parameters, NAME: value")
    by: str | None = Field(default=None, min_length=1, max_length=100)


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(
        default=None, min_length=1, max_length=100, description="the commander (default: you)"
    )


RunId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


@router.get(
    "/api/v1/runbooks/{runbook_id}/runs",
    summary="The runs of a runbook's steps, newest first (for an incident when given)",
    response_model=list[RunOut],
    responses=errors(400, 404),
    dependencies=[KnownQuery],
)
async def list_runs(
    runbook_id: str,
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
    incident: IncidentQuery = None,
) -> list[RunOut]:
    (await _catalog(settings)).get(runbook_id)  # 404 for a runbook that is not there
    found = await read_only(
        settings,
        lambda s: [
            run_out(r)
            for r in runs.list_(s, incident_id=incident, runbook_id=runbook_id, limit=1000)
        ],
    )
    return page.sliced(found)


@router.post(
    "/api/v1/runbooks/{runbook_id}/runs",
    summary="Ask for runs of a runbook's steps for an incident; the worker runs them",
    status_code=201,
    response_model=list[RunOut],
    responses=errors(400, 404, 409, 413),
    dependencies=[KnownQuery],
)
async def create_runs(
    runbook_id: str, body: RunCreate, settings: AppSettings, who: Writer
) -> list[RunOut]:
    if sum([body.step is not None, body.all, body.verification]) != 1:
        raise Invalid("say which steps: exactly one of step, all, verification")
    runbook = (await _catalog(settings)).get(runbook_id)
    selections = (
        [Selection(step=s.number) for s in runbook.steps if s.blocks]
        if body.all
        else [Selection(step=body.step, verification=body.verification)]
    )

    def work(s: Any) -> list[RunOut]:
        out = []
        for selection in selections:
            rows = actions.runbooks.request(
                s,
                settings.config,
                runbook,
                selection,
                incident_id=body.incident,
                given={k.lower(): v for k, v in body.params.items()},
                by=body.by or who.name,
                now=settings.clock.now(),
            )
            out += [run_out(r) for r in rows]
        return out

    return await in_transaction(settings, work)


@router.get(
    "/api/v1/runbooks/runs/{run_id}",
    summary="One run of a runbook step: its state, output, exit status, rows and duration",
    response_model=RunOut,
    responses=errors(400, 404),
    dependencies=[KnownQuery],
)
async def show_run(run_id: RunId, settings: AppSettings, _who: Reader) -> RunOut:
    return await read_only(settings, lambda s: run_out(runs.get(s, run_id)))


@router.post(
    "/api/v1/runbooks/runs/{run_id}/approve",
    summary="The incident commander approves a step that writes; the worker then runs it",
    response_model=RunOut,
    responses=errors(400, 404, 409, 413),
    dependencies=[KnownQuery],
)
async def approve_run(run_id: RunId, body: Approval, settings: AppSettings, who: Writer) -> RunOut:
    def work(s: Any) -> RunOut:
        row = actions.runbooks.approve(s, run_id, body.by or who.name, settings.clock.now())
        return run_out(row)

    return await in_transaction(settings, work)
