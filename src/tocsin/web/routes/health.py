"""`/healthz` (the process answers), `/readyz` (the store answers and some worker beats;
503 naming what fails, in reference 002 §5.3's shape), `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.instances import service as instances
from tocsin.instances.service import FRESH_BEATS as FRESH_BEATS
from tocsin.instances.service import Instance
from tocsin.tokens import service as auth
from tocsin.web.deps import AppSettings, authorize, in_transaction

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a part is failing; `checks` names it"}})
async def readyz(settings: AppSettings) -> JSONResponse:
    now = settings.clock.now()
    fresh = now - settings.config.worker.heartbeat_interval * FRESH_BEATS

    def probe(session: Session) -> list[Instance]:
        session.execute(text("SELECT 1"))
        interval = settings.config.worker.heartbeat_interval
        return [i for i in instances.listing(session, now, interval) if i.alive]

    checks: dict[str, Any] = {}
    try:
        alive = await in_transaction(settings, probe)
        workers = len(alive)
        checks["store"] = {"status": "ok"}
        checks["workers"] = (
            {
                "status": "ok",
                "alive": workers,
                "instances": [
                    {
                        "id": i.id,
                        "status": i.status,
                        "checks_held": i.checks_held,
                        "notifications_held": i.notifications_held,
                        "taken_over": i.taken_over,
                    }
                    for i in alive
                ],
            }
            if workers
            else {
                "status": "error",
                "message": f"no worker has beaten since {fresh:%Y-%m-%dT%H:%M:%SZ}",
            }
        )
    except SQLAlchemyError as exc:
        checks["store"] = {"status": "error", "message": type(exc).__name__}
        checks["workers"] = {"status": "unknown", "message": "the store cannot be read"}
    healthy = all(c["status"] == "ok" for c in checks.values())
    return JSONResponse(
        {
            "status": "healthy" if healthy else "degraded",
            "timestamp": now.isoformat(),
            "failing": [name for name, c in checks.items() if c["status"] != "ok"],
            "checks": checks,
        },
        200 if healthy else 503,
    )


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, settings: AppSettings) -> Response:
    if not settings.config.api.open_metrics:
        await authorize(request, auth.from_header(request.headers.get("authorization")), "read")
    data = await run_in_threadpool(generate_latest, request.app.state.metrics)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
