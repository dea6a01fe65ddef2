"""The console's heartbeats (each with its state, last ping, next deadline and the ping URL
to copy into a cron job) and noise figures (alerts, notifications per day, quick
self-resolutions, alerts marked noise, suppressions by kind, per check, over a period), as
`tocsin heartbeat list` and `tocsin noise` show them. Reads only."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.schedule import cadence, status
from tocsin.noise.stats import noise_stats
from tocsin.web.console_core import Operator, page, signed_in
from tocsin.web.deps import AppSettings, read_only

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Operator, signed_in("viewer")]
PERIODS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@router.get("/heartbeats")
async def heartbeats_page(settings: AppSettings, who: Viewer) -> Any:
    config, now = settings.config, settings.clock.now()

    def work(session: Session) -> list[dict[str, Any]]:
        rows = {r.name: r for r in heartbeats.list_(session)}
        out = []
        for beat in sorted(config.heartbeats, key=lambda b: b.name):
            row = rows.get(beat.name)
            out.append(
                {
                    "name": beat.name,
                    "schedule": cadence(beat),
                    "status": status(row.status, row.next_due_at, now) if row else "not started",
                    "ping_url": heartbeats.ping_url(config.public_url, row.uuid) if row else None,
                    "last_ping_at": row.last_ping_at if row else None,
                    "next_due_at": row.next_due_at if row else None,
                    "last_duration_s": row.last_duration_s if row else None,
                }
            )
        return out

    rows = await read_only(settings, work)
    return page("console/heartbeats.html", operator=who, rows=rows, active="heartbeats")


@router.get("/noise")
async def noise_page(request: Request, settings: AppSettings, who: Viewer) -> Any:
    period = request.query_params.get("period") or "7d"
    if period not in PERIODS:
        period, error, status_code = "7d", f"period: one of {', '.join(PERIODS)}", 400
    else:
        error, status_code = None, 200
    now = settings.clock.now()
    figures = await read_only(settings, lambda s: noise_stats(s, now - PERIODS[period], now))
    return page(
        "console/noise.html",
        status_code,
        operator=who,
        figures=[f.as_dict() for f in figures],
        period=period,
        periods=list(PERIODS),
        error=error,
        active="noise",
    )
