"""Statuspage-compatible JSON under `/status/api/v2/` (no token), so clients and widgets
written for Atlassian Statuspage work with `https://host/status` as their base URL.

Nothing is cached on the server; answers carry `Cache-Control: no-store` so an update is in
the next answer on every instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tocsin.statuspage.schemas import DOCUMENTS, Json, Shapes
from tocsin.web.deps import AppSettings, Settings
from tocsin.web.status_pages import NO_STORE, current

router = APIRouter(prefix="/status/api/v2", tags=["status"])


async def shapes(settings: Settings) -> Shapes:
    snap = await current(settings)
    url = settings.config.public_url.rstrip("/") + "/status"
    return Shapes(snap, url, settings.started_at)


def _route(path: str, make: Callable[[Shapes], Json]) -> None:
    async def answer(settings: AppSettings) -> JSONResponse:
        return JSONResponse(make(await shapes(settings)), headers=NO_STORE)

    answer.__name__ = "status_" + path.replace("/", "_").replace("-", "_").removesuffix(".json")
    summary: Any = f"Statuspage API v2: {path}"
    router.add_api_route(f"/{path}", answer, methods=["GET"], summary=summary)


for _path, _make in DOCUMENTS.items():
    _route(_path, _make)
