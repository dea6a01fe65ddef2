"""Statuspage-compatible JSON under `/status/api/v2/` (no token), so clients and widgets
written for Atlassian Statuspage work with `https://host/status` as their base URL.

Nothing is cached on the server; answers carry `Cache-Control: no-store` so an update is in
the next answer on every instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tocsin.statuspage.schemas import Json, Shapes
from tocsin.web.deps import AppSettings, Settings
from tocsin.web.status_pages import NO_STORE, current

router = APIRouter(prefix="/status/api/v2", tags=["status"])
INCIDENTS_LISTED = 50  # Statuspage's incidents.json lists the 50 most recent


async def shapes(settings: Settings) -> Shapes:
    snap = await current(settings)
    url = settings.config.public_url.rstrip("/") + "/status"
    return Shapes(snap, url, settings.started_at)


def documents() -> dict[str, Callable[[Shapes], Json]]:
    """Each document by its path under the API, for the routes and the static export."""
    return {
        "summary.json": Shapes.summary,
        "status.json": Shapes.status,
        "components.json": Shapes.components,
        "incidents.json": lambda s: s.incidents(s.snap.history[:INCIDENTS_LISTED]),
        "incidents/unresolved.json": lambda s: s.incidents(s.snap.incidents),
        "scheduled-maintenances.json": lambda s: s.maintenances(),
        "scheduled-maintenances/upcoming.json": lambda s: s.maintenances("scheduled"),
        "scheduled-maintenances/active.json": lambda s: s.maintenances("in_progress"),
    }


def _route(path: str, make: Callable[[Shapes], Json]) -> None:
    async def answer(settings: AppSettings) -> JSONResponse:
        return JSONResponse(make(await shapes(settings)), headers=NO_STORE)

    answer.__name__ = "status_" + path.replace("/", "_").replace("-", "_").removesuffix(".json")
    summary: Any = f"Statuspage API v2: {path}"
    router.add_api_route(f"/{path}", answer, methods=["GET"], summary=summary)


for _path, _make in documents().items():
    _route(_path, _make)
