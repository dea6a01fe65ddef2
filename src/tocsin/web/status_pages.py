"""The public status page, `/status` (no token: customers read it), its stylesheet and logo,
the uptime inputs as CSV, the Atom feed and a badge per component.

Nothing is cached (`Cache-Control: no-store`): each request reads the store, so an update
shows on the next load on every instance."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tocsin.config.status import LOGO_TYPES
from tocsin.statuspage import feeds, history, render
from tocsin.statuspage.service import Snapshot, snapshot
from tocsin.statuspage.uptime import Uptime
from tocsin.web.deps import AppSettings, Settings, read_only

router = APIRouter(tags=["status"])
NO_STORE = {"Cache-Control": "no-store"}


async def current(settings: Settings) -> Snapshot:
    config = settings.config.status
    now = settings.clock.now()
    return await read_only(settings, lambda s: snapshot(s, config, now))


async def with_uptime(settings: Settings) -> tuple[Snapshot, dict[str, Uptime]]:
    config = settings.config.status
    now = settings.clock.now()

    def read(session: Session) -> tuple[Snapshot, dict[str, Uptime]]:
        return snapshot(session, config, now), history.per_component(session, config, now)

    return await read_only(settings, read)


def page_url(settings: Settings) -> str:
    return settings.config.public_url.rstrip("/") + "/status"


@router.get("/status", response_class=HTMLResponse, summary="The public status page")
async def status_page(settings: AppSettings) -> HTMLResponse:
    snap, uptime = await with_uptime(settings)
    html = render.page(snap, base="/status", logo=settings.config.status.logo, uptime=uptime)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/status/uptime.csv", summary="The spans the page's uptime is computed from")
async def uptime_csv(settings: AppSettings) -> Response:
    config = settings.config.status
    now = settings.clock.now()
    found = await read_only(settings, lambda s: history.inputs(s, config, now))
    return Response(feeds.inputs_csv(found), media_type="text/csv", headers=NO_STORE)


@router.get("/status/history.atom", summary="Incidents and maintenance as an Atom feed")
async def atom(settings: AppSettings) -> Response:
    feed = feeds.atom(await current(settings), page_url(settings))
    return Response(feed, media_type="application/atom+xml", headers=NO_STORE)


@router.get("/status/badge/{component_id}.svg", summary="A component's status as an SVG badge")
async def badge(component_id: str, settings: AppSettings) -> Response:
    snap = await current(settings)
    for view in snap.components:
        if view.id == component_id:
            return Response(feeds.badge(view), media_type="image/svg+xml", headers=NO_STORE)
    known = ", ".join(v.id for v in snap.components) or "none configured"
    return Response(f"no component {component_id!r} (known: {known})", 404, media_type="text/plain")


@router.get("/status/status.css", include_in_schema=False)
async def stylesheet() -> Response:
    css = render.CSS.read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/status/logo.{ext}", include_in_schema=False)
async def logo(ext: str, settings: AppSettings) -> Response:
    path = settings.config.status.logo
    if path is None or path.suffix.lower() != f".{ext.lower()}":
        return Response("no such logo", 404, media_type="text/plain")
    try:
        data = path.read_bytes()
    except OSError:
        return Response("no such logo", 404, media_type="text/plain")
    return Response(data, media_type=LOGO_TYPES[path.suffix.lower()], headers=NO_STORE)
