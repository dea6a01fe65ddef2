"""Inbound events, accepted exactly as their senders send them:

- `POST /api/v2/alerts` (Alertmanager API v2: Prometheus's `alerting.alertmanagers`, amtool),
  `GET /api/v2/alerts`, `GET /api/v2/status`;
- `POST /api/v1/alertmanager` and `POST /api/v1/alertmanager/{key}` (an Alertmanager's
  webhook receiver, version 4; the key in the URL for receivers without credentials);
- `POST /v2/enqueue` (PagerDuty Events API v2; the body's `routing_key` is the token);
- `POST /api/v1/events` (Tocsin's plain JSON event, see `tocsin.inbound.events`).

Each request is one batch, applied in one transaction: stored whole or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tocsin.errors import Conflict
from tocsin.inbound import alertmanager, ends, events, pagerduty
from tocsin.inbound import service as inbound
from tocsin.inbound.repeats import Seen
from tocsin.inbound.schemas import BadInput, Inbound
from tocsin.web.deps import (
    AppSettings,
    Ingest,
    Reader,
    Settings,
    authorize,
    committed,
    read_only,
)
from tocsin.web.limits import retry_after
from tocsin.web.routes import silences
from tocsin.web.schemas import EventsAnswer, WebhookAnswer, errors

log = logging.getLogger("tocsin.web.inbound")
router = APIRouter()
# JSON Schema definitions the raw-body routes refer to, merged into the OpenAPI components.
SCHEMA_DEFS: dict[str, Any] = {}
ATTEMPTS = 3  # a batch that lost a race with a concurrent one is retried whole


def json_body(schema_of: Any) -> dict[str, Any]:
    """`openapi_extra` documenting a body the route parses itself (for speed and for the
    sender's own error shape) with the same model that parses it."""
    schema = TypeAdapter(schema_of).json_schema(ref_template="#/components/schemas/{model}")
    SCHEMA_DEFS.update(schema.pop("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def ingest(settings: Settings, batch: list[Inbound], actor: str) -> list[inbound.Applied]:
    """Apply `batch` on the group-commit writer; answered once it is committed. A batch
    that only repeats what is stored (Prometheus re-sends every firing alert every cycle) is
    answered from memory (`tocsin.inbound.repeats`) or else from a read, without queueing
    for the writer; so is one that only moves ends later, whose ends the API writes within
    a second (`tocsin.inbound.ends`, `flush_ends`)."""
    repeats = settings.repeats
    now = settings.clock.now()
    known = repeats.answer(batch, now)
    if known is not None:
        return known
    known = await read_only(settings, lambda session: repeats.look(session, batch, now))
    if known is not None:
        return known

    def work(session: Session) -> tuple[list[inbound.Applied], Seen | None]:
        applied = inbound.apply(session, batch, settings.clock.now(), settings.pipeline, actor)
        return applied, repeats.seen(session, batch, applied)

    for attempt in range(ATTEMPTS):
        try:
            applied, seen = await committed(settings, work)
        except (IntegrityError, Conflict, OperationalError):
            # Another batch opened or moved one of these alerts first (another instance, or
            # a deadlock victim on PostgreSQL): nothing of ours was kept, so apply it again.
            if attempt == ATTEMPTS - 1:
                raise
            continue
        repeats.learn(seen)
        return applied
    raise AssertionError("unreachable")


async def flush_ends(settings: Settings) -> int:
    """Write the later ends answered since the last flush (`tocsin.inbound.ends`), in one
    transaction on the group-commit writer; what failed to be written is kept for the next."""
    repeats = settings.repeats
    async with repeats.ends.flushing:
        pending = repeats.ends.take()
        if not pending:
            return 0

        def work(session: Session) -> tuple[int, Seen | None]:
            moved = ends.flush(session, pending)
            return moved, repeats.read_back(session, list(pending))

        try:
            moved, seen = await committed(settings, work)
        except BaseException:
            repeats.ends.note(pending)
            raise
        repeats.learn(seen)  # the memory keeps what it just wrote rather than forgetting it
        return moved


async def flush_ends_forever(settings: Settings) -> None:
    """`flush_ends` every `settings.flush_every` (a second), for as long as the API runs."""
    while True:
        await asyncio.sleep(settings.flush_every.total_seconds())
        try:
            await flush_ends(settings)
        except Exception:
            log.exception("writing alerts' later end times failed; retrying")


@router.post(
    "/api/v2/alerts",
    tags=["alertmanager"],
    summary="Alertmanager API v2: post alerts (Prometheus, amtool)",
    openapi_extra=json_body(list[alertmanager.PostableAlert]),
)
async def post_alerts(request: Request, settings: AppSettings, who: Ingest) -> JSONResponse:
    try:
        batch = alertmanager.parse_postable(await request.body(), settings.clock.now(), who.name)
    except BadInput as exc:
        return JSONResponse(str(exc), 400)  # a JSON string, as Alertmanager's (amtool prints it)
    await ingest(settings, batch, who.name)
    return JSONResponse(None, 200)


@router.get(
    "/api/v2/alerts",
    tags=["alertmanager"],
    summary="Alertmanager API v2: open alerts, with what noise control muted",
    response_model=None,
)
async def get_alerts(
    settings: AppSettings,
    _who: Reader,
    active: bool = True,
    silenced: bool = True,
    inhibited: bool = True,
    filters: silences.Filters = None,
) -> list[dict[str, Any]] | JSONResponse:
    now = settings.clock.now()
    return await silences.am_answer(
        settings,
        lambda s: silences.alertmanager_alerts(
            s, now, active=active, silenced=silenced, inhibited=inhibited, filters=filters
        ),
    )


@router.get("/api/v2/status", tags=["alertmanager"], summary="Alertmanager API v2: status")
async def status(settings: AppSettings, _who: Reader) -> dict[str, Any]:
    return {
        "cluster": {"name": "tocsin", "status": "disabled", "peers": []},
        "versionInfo": {
            "version": "tocsin",
            "revision": "tocsin",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        },
        "config": {"original": ""},
        "uptime": settings.started_at.isoformat(),
    }


@router.post(
    "/api/v1/alertmanager",
    tags=["inbound"],
    summary="An Alertmanager webhook receiver (payload version 4), Bearer token",
    openapi_extra=json_body(alertmanager.WebhookPayload),
    response_model=WebhookAnswer,
    responses=errors(400, 413),
)
async def alertmanager_webhook(
    request: Request, settings: AppSettings, who: Ingest
) -> dict[str, Any]:
    return await _webhook(request, settings, who.name)


@router.post(
    "/api/v1/alertmanager/{key}",
    tags=["inbound"],
    summary="An Alertmanager webhook receiver with its key in the URL",
    description="For receivers that send no credentials: `key` is a token with the `ingest` "
    "scope, and the only credential.",
    openapi_extra={**json_body(alertmanager.WebhookPayload), "security": []},
    response_model=WebhookAnswer,
    responses=errors(400, 413),
)
async def alertmanager_webhook_key(
    request: Request, key: str, settings: AppSettings
) -> dict[str, Any]:
    who = await authorize(request, key, "ingest")
    return await _webhook(request, settings, who.name)


async def _webhook(request: Request, settings: Settings, source: str) -> dict[str, Any]:
    batch = alertmanager.parse_webhook(await request.body(), source)
    applied = await ingest(settings, batch, source)
    return {"status": "success", "alerts": len(applied)}


@router.post(
    "/api/v1/events",
    tags=["inbound"],
    summary="Tocsin's plain JSON events, for scripts",
    openapi_extra=json_body(events.EventBatch),
    response_model=EventsAnswer,
    responses=errors(400, 413),
)
async def post_events(request: Request, settings: AppSettings, who: Ingest) -> dict[str, Any]:
    batch = events.parse(await request.body(), who.name)
    applied = await ingest(settings, batch, who.name)
    return {
        "status": "success",
        "results": [{"outcome": a.outcome, "alert_id": a.alert_id} for a in applied],
    }


def _pd_error(errors: list[str]) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, 400
    )


@router.post(
    "/v2/enqueue",
    tags=["inbound"],
    summary="PagerDuty Events API v2",
    status_code=202,
    openapi_extra=json_body(pagerduty.Event),
)
async def enqueue(request: Request, settings: AppSettings) -> JSONResponse:
    try:
        event = pagerduty.parse(await request.body())
    except BadInput as exc:
        return _pd_error(exc.problems)
    cache = request.app.state.tokens
    who = await cache.principal(settings, event.routing_key)
    if who is None or not who.allows("ingest"):
        # PagerDuty refuses an event for an unknown integration key as an invalid event,
        # which senders treat as final rather than retrying forever.
        return _pd_error(["routing_key: not a known integration key"])
    wait = settings.limiter.take(who.name)
    if wait:
        return JSONResponse(
            {"status": "throttle event", "message": "Requests are arriving too quickly."},
            429,
            headers={"Retry-After": retry_after(wait)},
        )
    item = pagerduty.to_inbound(event, who.name)
    await ingest(settings, [item], who.name)
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": item.key}, 202
    )
