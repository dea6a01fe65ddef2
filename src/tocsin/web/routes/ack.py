"""Acknowledge links: GET shows the alert and a confirm button and changes nothing (link
previews and mail scanners fetch links); only the form's POST acknowledges. The signed
token is the credential, so these pages take no API token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tocsin import acklinks, actions
from tocsin.alerts import service as alerts
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.web.deps import AppSettings, in_transaction
from tocsin.web.pages import render
from tocsin.web.trail import ApiTrail

router = APIRouter(tags=["acknowledge links"])


def _page(status: int, heading: str, **values: Any) -> HTMLResponse:
    return render("ack.html", status, heading=heading, **values)


@router.get("/ack/{token}", response_class=HTMLResponse, summary="Confirm page (no change)")
async def confirm(token: str, settings: AppSettings) -> HTMLResponse:
    def work(session: Session) -> HTMLResponse:
        now = settings.clock.now()
        alert_id = acklinks.verify_token(acklinks.secret(session, settings.config, now), token, now)
        alert = alerts.get(session, alert_id)
        return _page(
            200, f"Acknowledge alert #{alert.id}?", alert=alert, can_ack=alert.state == "firing"
        )

    return await _guarded(settings, work)


@router.post("/ack/{token}", response_class=HTMLResponse, summary="Acknowledge the alert")
async def acknowledge(
    token: str, request: Request, settings: AppSettings, trail: ApiTrail
) -> HTMLResponse:
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    by = (form.get("by", [""])[0].strip() or "acknowledge link")[:100]

    def work(session: Session) -> HTMLResponse:
        now = settings.clock.now()
        alert_id = acklinks.verify_token(acklinks.secret(session, settings.config, now), token, now)
        alert, _ = actions.alerts.acknowledge(
            session, settings.pipeline, alert_id, by, now, "acknowledge link"
        )
        trail.record(session, by, "alert.ack", now, f"alert {alert_id}", interface="link")
        return _page(200, f"Alert #{alert.id} acknowledged", alert=alert, can_ack=False)

    return await _guarded(settings, work)


async def _guarded(settings: AppSettings, work: Any) -> HTMLResponse:
    try:
        page: HTMLResponse = await in_transaction(settings, work)
    except acklinks.AckLinkError as exc:
        return _page(400, "This link cannot be used", error=str(exc))
    except NotFound as exc:
        return _page(404, "No such alert", error=str(exc))
    except (Conflict, Invalid) as exc:
        return _page(409, "Nothing to acknowledge", error=str(exc))
    return page
