"""`create_app(settings)`: the HTTP API, its inbound endpoints and its pages.

Routers are listed in one place (`ROUTERS`); a domain adds its own module under
`web/routes/` with a `router` and one line here (silences and maintenance windows will slot
in as `routes/silences.py` serving `/api/v2/silences`, `/api/v2/silence/{id}` and
`/api/v1/silences`, and `routes/maintenance.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin.heartbeats import service as heartbeat_rows
from tocsin.web import (
    console_alerts,
    console_auth,
    console_checks,
    console_core,
    console_incidents,
    console_invites,
    console_mutes,
    console_oncall,
    console_reports,
    console_silences,
    console_watch,
    errors,
    pages,
    status_api,
    status_pages,
)
from tocsin.web.deps import Settings, TokenCache, in_transaction
from tocsin.web.limits import BodyLimit
from tocsin.web.metrics import StoreCollector, registry
from tocsin.web.pings import PREFIX, Pings
from tocsin.web.resends import PATH as RESENDS
from tocsin.web.resends import Resends
from tocsin.web.routes import (
    ack,
    audit,
    health,
    heartbeats,
    inbound,
    incidents,
    maintenance,
    operator,
    reports,
    runbooks,
    silences,
)

ROUTERS = (
    health.router,
    inbound.router,
    heartbeats.router,
    operator.router,
    ack.router,
    silences.router,
    maintenance.router,
    runbooks.router,
    incidents.router,
    status_pages.router,
    status_api.router,
    reports.router,
    console_auth.router,
    console_alerts.router,
    console_silences.router,
    console_reports.router,
    console_incidents.router,
    console_oncall.router,
    console_mutes.router,
    console_checks.router,
    console_watch.router,
    console_invites.router,
    audit.router,
)
OPENAPI_URL = "/api/v1/openapi.json"


def create_app(
    settings: Settings, *, fast_pings: bool = True, fast_resends: bool = True
) -> FastAPI:
    """The app; `fast_pings=False` leaves pings, `fast_resends=False` re-sent alerts, to
    FastAPI's routes alone (the tests compare the two)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await sync_heartbeats(settings)
        flusher = asyncio.create_task(inbound.flush_ends_forever(settings))
        yield
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        await inbound.flush_ends(settings)  # later ends answered are written before we stop
        settings.repeats.close()

    app = TocsinApp(
        title="Tocsin",
        version="1",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: no CDN, no inline script
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tokens = tokens = TokenCache()
    app.state.metrics = registry(
        StoreCollector(
            settings.factory,
            settings.clock,
            settings.config.worker.heartbeat_interval * health.FRESH_BEATS,
        )
    )
    for router in ROUTERS:
        app.include_router(router)
    app.mount(pages.STATIC_PATH, pages.static_files(), name="static")
    errors.install(app)
    console_core.install(app)
    limit = settings.config.api.max_body_bytes
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(pages.PageHeaders)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if fast_pings:
        app.fast_pings(settings, limit)
    if fast_resends:
        app.fast_resends(settings, tokens, limit)
    return app


class TocsinApp(FastAPI):
    """FastAPI, with `/ping/…` requests offered to `Pings` (`tocsin.web.pings`) and
    `POST /api/v2/alerts` to `Resends` (`tocsin.web.resends`) before its own stack: the two
    busiest requests, measured cheaper this way. An error they do not answer themselves is a
    500 from Starlette's `ServerErrorMiddleware`, as it is on FastAPI's side.

    What a request the fast paths answer never passes through, so they do it themselves or
    do without:
    - every middleware added in `create_app` (`BodyLimit`: they apply the same limit through
      `limits.read_body`; `PageHeaders`: they answer plain text or JSON, never a page) and any
      middleware added later (a request log, CORS, metrics per route: add it here as well);
    - FastAPI's routing, dependencies (`Reader`/`Writer`/`require`: `Resends` checks the token
      and its scope in `TokenCache` itself; a ping needs no token) and request validation;
    - the exception handlers `errors.install` registers (they answer 404/413/503 alike by hand);
    - response models and the OpenAPI document (the FastAPI routes for the same URLs stay
      registered, answer every case the fast paths pass on, and document them)."""

    pings: ASGIApp | None = None
    resends: ASGIApp | None = None

    def fast_pings(self, settings: Settings, limit: int) -> None:
        self.pings = ServerErrorMiddleware(Pings(settings, limit, self._stack), debug=self.debug)

    def fast_resends(self, settings: Settings, tokens: TokenCache, limit: int) -> None:
        fast = Resends(settings, tokens, limit, self._stack)
        self.resends = ServerErrorMiddleware(fast, debug=self.debug)

    async def _stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if self.pings is not None and path.startswith(PREFIX):
                await self.pings(scope, receive, send)
                return
            if self.resends is not None and path == RESENDS:
                await self.resends(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def sync_heartbeats(settings: Settings) -> None:
    """Rows for the configured heartbeats (at start, and after a reload)."""
    await in_transaction(
        settings,
        lambda s: heartbeat_rows.sync(s, settings.config.heartbeats, settings.clock.now()),
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(inbound.SCHEMA_DEFS)
        for path, operations in schema["paths"].items():
            if path.startswith(errors.V1):  # bad input there is a 400 (`errors.py`), never 422
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
        app.openapi_schema = schema
    return app.openapi_schema
