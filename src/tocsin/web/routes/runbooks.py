"""Runbooks: the pages every notification links to (`/runbooks/{id}`, no token: a phone opens
them from a page), and their JSON under `/api/v1` with the read scope.

The pages are served under a Content-Security-Policy that allows no script and no inline
style: Markdown is rendered with raw HTML off and unsafe links left as text (runbooks.render),
the template is autoescaped, and the stylesheet is a file of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from tocsin.errors import NotFound
from tocsin.runbooks.render import to_html
from tocsin.runbooks.schemas import RunbookOut, RunbookSummaryOut, detail, summary
from tocsin.runbooks.service import Catalog, catalog
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader
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


@router.get("/runbooks/{runbook_id}", response_class=HTMLResponse, summary="A runbook's page")
async def page(runbook_id: str, settings: AppSettings) -> HTMLResponse:
    found = await _catalog(settings)
    try:
        runbook = found.get(runbook_id)
    except NotFound as exc:
        return _page(404, "runbooks.html", missing=str(exc), runbooks=[])
    return _page(
        200,
        "runbook.html",
        runbook=detail(runbook),
        sections=runbook.sections,
        body=to_html(runbook),
    )


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
