"""Statuspage-compatible JSON under `/status/api/v2/` (no token), so clients and widgets
written for Atlassian Statuspage work with `https://host/status` as their base URL.

Answers carry `Cache-Control: no-store`; the server keeps each document for as long as the
store and the clock's second have not moved (`web.status_cache`), so an update is in the next
answer on every instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from tocsin.statuspage.schemas import DOCUMENTS, Json, Shapes
from tocsin.web.deps import AppSettings, Settings
from tocsin.web.status_cache import cached
from tocsin.web.status_pages import NO_STORE, current

router = APIRouter(prefix="/status/api/v2", tags=["status"])


async def shapes(settings: Settings) -> Shapes:
    snap = await current(settings)
    url = settings.config.public_url.rstrip("/") + "/status"
    return Shapes(snap, url, settings.started_at)


def _route(path: str, make: Callable[[Shapes], Json]) -> None:
    async def answer(settings: AppSettings) -> Response:
        async def document() -> bytes:
            found = await shapes(settings)
            return await run_in_threadpool(lambda: bytes(JSONResponse(make(found)).body))

        body = await cached(settings, path, document)
        return Response(body, media_type="application/json", headers=NO_STORE)

    answer.__name__ = "status_" + path.replace("/", "_").replace("-", "_").removesuffix(".json")
    summary: Any = f"Statuspage API v2: {path}"
    router.add_api_route(f"/{path}", answer, methods=["GET"], summary=summary)


for _path, _make in DOCUMENTS.items():
    _route(_path, _make)
