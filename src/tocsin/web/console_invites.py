"""The page of an invite link (`tocsin user invite NAME`): the invited user chooses a
console password once, then signs in. As on the sign-in form, the form's token matches a
short-lived HttpOnly cookie; the link's own token is spent by compare-and-set."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tocsin.console import audit, invites, sessions
from tocsin.errors import Conflict, Invalid
from tocsin.web.console_core import Refused, address_of, form_of, page, secure
from tocsin.web.deps import AppSettings, in_transaction, read_only

router = APIRouter(include_in_schema=False)
NONCE = "tocsin_invite"
GONE = "this invite link is unknown, used or expired: ask for a new one"


def _page(
    request: Request, token: str, user: str | None, status: int, error: str | None
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    answer = page(
        "console/invite.html",
        status,
        operator=None,
        user=user,
        token=token,
        nonce=nonce,
        error=error,
    )
    answer.headers["Referrer-Policy"] = "no-referrer"  # the link's token stays in this tab
    answer.set_cookie(
        NONCE,
        nonce,
        max_age=3600,
        path="/invite",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    return answer


@router.get("/invite/{token}", response_class=HTMLResponse)
async def invite_page(token: str, request: Request, settings: AppSettings) -> HTMLResponse:
    now = settings.clock.now()
    user = await read_only(settings, lambda s: _user(s, token, now))
    if user is None:
        return _page(request, token, None, 404, GONE)
    return _page(request, token, user, 200, None)


def _user(session: Session, token: str, now: Any) -> str | None:
    found = invites.find(session, token, now)
    return None if found is None else found.user_name


@router.post("/invite/{token}", response_class=HTMLResponse)
async def set_password(token: str, request: Request, settings: AppSettings) -> Response:
    form = await form_of(request)
    nonce = request.cookies.get(NONCE, "")
    if not nonce or not secrets.compare_digest(nonce, form.get("csrf", [""])[0]):
        raise Refused(403, "this form's security token is missing or stale: reload the page")
    password, again = form.get("password", [""])[0], form.get("again", [""])[0]
    now = settings.clock.now()
    user = await read_only(settings, lambda s: _user(s, token, now))
    if user is None:
        return _page(request, token, None, 404, GONE)
    if password != again:
        return _page(request, token, user, 400, "again: the two passwords differ")

    def work(session: Session) -> None:
        used = invites.use(session, settings.config, token, password, now)
        sessions.revoke_user(session, used, now)
        audit.record(
            session,
            actor=used,
            action="password.set",
            interface="console",
            now=now,
            target=used,
            address=address_of(request),
            detail={"through": "invite"},
        )

    try:
        await in_transaction(settings, work)
    except Invalid as exc:
        return _page(request, token, user, 400, str(exc))
    except Conflict:
        return _page(request, token, None, 409, GONE)
    answer = RedirectResponse("/login", 303)
    answer.delete_cookie(NONCE, path="/invite")
    return answer
