"""Signing in and out of the console, and the audit log's page.

Sign-in: the form carries a token matching a short-lived HttpOnly cookie (so a page
elsewhere cannot post it), the password is checked against its argon2id hash, and failed
attempts are audit rows: past `console.login_failures` per user or per address within
`console.login_window`, sign-in answers 429 without checking the password."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tocsin.console import accounts, audit, sessions
from tocsin.web.console_core import (
    COOKIE,
    Operator,
    Refused,
    address_of,
    audited,
    field,
    form_of,
    page,
    secure,
    signed_in,
)
from tocsin.web.deps import AppSettings, in_transaction, read_only

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "tocsin_login"
Viewer = Annotated[Operator, signed_in("viewer")]
Admin = Annotated[Operator, signed_in("admin")]


def _next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never `//elsewhere`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/alerts"


@router.get("/", response_class=HTMLResponse)
async def home(_who: Viewer) -> Response:
    return RedirectResponse("/alerts", 303)


def _login_page(request: Request, status: int, error: str | None, **values: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    answer = page(
        "console/login.html",
        status,
        operator=None,
        nonce=nonce,
        error=error,
        next=_next(request.query_params.get("next") or values.pop("next", None)),
        **values,
    )
    answer.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    return answer


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request, 200, None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, settings: AppSettings) -> Response:
    form = await form_of(request)
    user, password, target = field(form, "user"), form.get("password", [""])[0], field(form, "next")
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not secrets.compare_digest(nonce, form.get("csrf", [""])[0]):
        raise Refused(403, "this form's security token is missing or stale: reload the page")
    if not user or not password:
        missing = "user" if not user else "password"
        return _login_page(request, 400, f"{missing}: required", user=user, next=target)
    address = address_of(request)
    now = settings.clock.now()
    limits = settings.config.console

    def limited(session: Session) -> bool:
        by_user, by_address = audit.failed_logins(session, user, address, now - limits.login_window)
        return max(by_user, by_address) >= limits.login_failures

    if await read_only(settings, limited):
        await in_transaction(settings, lambda s: _failed(s, user, address, now, "limited"))
        minutes = int(limits.login_window.total_seconds() // 60)
        return _login_page(
            request, 429, f"too many failed sign-ins: try again in {minutes} minutes", user=user
        )
    ok = await read_only(
        settings, lambda s: accounts.check_password(s, settings.config, user, password)
    )
    if not ok:
        await in_transaction(settings, lambda s: _failed(s, user, address, now, "wrong"))
        return _login_page(request, 401, "unknown user or wrong password", user=user, next=target)

    def open_session(session: Session) -> str:
        _, cookie = sessions.open_(session, user, address, limits.session_ttl, now)
        audit.record(
            session, actor=user, action="login", interface="console", now=now, address=address
        )
        return cookie

    cookie = await in_transaction(settings, open_session)
    answer = RedirectResponse(_next(target), 303)
    answer.set_cookie(
        COOKIE,
        cookie,
        max_age=int(limits.session_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    answer.delete_cookie(LOGIN_COOKIE, path="/login")
    return answer


def _failed(session: Session, user: str, address: str | None, now: Any, why: str) -> None:
    audit.record(
        session,
        actor=user,
        action=audit.LOGIN_FAILED,
        interface="console",
        now=now,
        address=address,
        detail={"why": why},
    )


@router.post("/logout")
async def logout(settings: AppSettings, who: Viewer) -> Response:
    now = settings.clock.now()

    def work(session: Session) -> None:
        sessions.revoke(session, who.session_id, now)
        audited(session, who, "logout", now)

    await in_transaction(settings, work)
    answer = RedirectResponse("/login", 303)
    answer.delete_cookie(COOKIE)
    return answer


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    settings: AppSettings,
    who: Admin,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    size = 100
    rows = await read_only(
        settings,
        lambda s: [
            audit.as_json(r)
            for r in audit.list_(
                s, limit=size + 1, before_id=before, actor=actor or None, action=action or None
            )
        ],
    )
    more = rows[size - 1]["id"] if len(rows) > size else None
    return page(
        "console/audit.html",
        operator=who,
        rows=rows[:size],
        more=more,
        actor=actor or "",
        action=action or "",
        active="audit",
    )
