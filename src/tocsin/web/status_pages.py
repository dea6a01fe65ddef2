"""The public status page, `/status` (no token: customers read it), its stylesheet and logo.

Pages are never cached (`Cache-Control: no-store`), so an update shows on the next load on
every instance: each request reads the store."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from tocsin.config.status import LOGO_TYPES
from tocsin.statuspage.service import Snapshot, snapshot
from tocsin.web import status_render
from tocsin.web.deps import AppSettings, Settings, read_only

router = APIRouter(tags=["status"])
NO_STORE = {"Cache-Control": "no-store"}


async def current(settings: Settings) -> Snapshot:
    config = settings.config.status
    now = settings.clock.now()
    return await read_only(settings, lambda s: snapshot(s, config, now))


@router.get("/status", response_class=HTMLResponse, summary="The public status page")
async def status_page(settings: AppSettings) -> HTMLResponse:
    snap = await current(settings)
    html = status_render.page(snap, base="/status", logo=settings.config.status.logo)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/status/status.css", include_in_schema=False)
async def stylesheet() -> Response:
    css = status_render.CSS.read_text(encoding="utf-8")
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
