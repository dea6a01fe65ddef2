"""Heartbeat pings, healthchecks.io's URLs: `/ping/{uuid}` (success), `/ping/{uuid}/start`,
`/ping/{uuid}/fail`, `/ping/{uuid}/{exit_code}`; GET, POST or HEAD; the body (a log
excerpt) is kept, capped. The key is the secret, so pings take no token. `GET
/api/v1/heartbeats` lists them with their ping URLs.

Most pings never reach these routes: `tocsin.web.pings` answers them ahead of FastAPI. The
routes document the URLs and answer what the fast path passes on (405, 422, odd spellings)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.schedule import status
from tocsin.web import paging
from tocsin.web.deps import AppSettings, KnownQuery, Reader, in_transaction
from tocsin.web.pings import record
from tocsin.web.schemas import HeartbeatOut

router = APIRouter(tags=["heartbeats"])


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[PlainTextResponse]])


def pinged(path: str, summary: str) -> Callable[[Handler], Handler]:
    """Register a ping handler for GET, POST and HEAD (each documented with its own id)."""

    def register(handler: Handler) -> Handler:
        name = handler.__name__
        router.get(path, summary=summary, operation_id=f"{name}_get")(handler)
        router.post(path, summary=summary, operation_id=f"{name}_post")(handler)
        router.head(path, include_in_schema=False)(handler)
        return handler

    return register


async def _ping(
    request: Request, settings: AppSettings, key: str, kind: str, exit_code: int | None = None
) -> PlainTextResponse:
    remote = request.client.host if request.client else None
    status, text = await record(
        settings, key, kind, exit_code, await request.body(), request.method, remote
    )
    return PlainTextResponse(text, status)


Key = Annotated[str, Path(max_length=64)]


@pinged("/ping/{key}", "The job succeeded")
async def ping(request: Request, key: Key, settings: AppSettings) -> PlainTextResponse:
    return await _ping(request, settings, key, "success")


@pinged("/ping/{key}/start", "The job started")
async def start(request: Request, key: Key, settings: AppSettings) -> PlainTextResponse:
    return await _ping(request, settings, key, "start")


@pinged("/ping/{key}/fail", "The job failed")
async def fail(request: Request, key: Key, settings: AppSettings) -> PlainTextResponse:
    return await _ping(request, settings, key, "fail")


@pinged("/ping/{key}/{exit_code}", "The job exited with a code")
async def exited(
    request: Request,
    key: Key,
    exit_code: Annotated[int, Path(ge=0, le=255)],
    settings: AppSettings,
) -> PlainTextResponse:
    return await _ping(request, settings, key, "success", exit_code)


@router.get(
    "/api/v1/heartbeats",
    summary="Heartbeats, their state and ping URLs, by name",
    response_model=list[HeartbeatOut],
    responses=paging.responses(400),
    dependencies=[KnownQuery],
)
async def list_heartbeats(
    settings: AppSettings,
    _who: Reader,
    page: paging.Listing,
) -> list[dict[str, Any]]:
    now = settings.clock.now()

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {
                "name": h.name,
                "status": status(h.status, h.next_due_at, now),
                "ping_url": heartbeats.ping_url(settings.config.public_url, h.uuid),
                "last_ping_at": h.last_ping_at,
                "next_due_at": h.next_due_at,
                "alert_at": h.alert_at,
                "last_duration_s": h.last_duration_s,
                "configured": h.name in settings.beats,
            }
            for h in heartbeats.list_(session)
        ]

    rows = await in_transaction(settings, work)
    return page.sliced(rows)
