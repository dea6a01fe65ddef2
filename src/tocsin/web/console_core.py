"""What every console page shares: who is signed in and with which role, the forms' CSRF
token, the console's own page headers, and the audit row an action leaves.

A page asks for `signed_in("viewer")` (or "responder", "admin"): without a live session the
browser is sent to `/login`; with too small a role, or a form without this session's CSRF
token, it gets a 403 page and nothing changes. The role is read from the configuration on
every request, so editing `users.NAME.role` (or removing the user) takes effect at once."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tocsin.config.console import Role
from tocsin.console import accounts, audit, sessions
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.web.deps import Settings, in_transaction, settings_of
from tocsin.web.pages import render

COOKIE = "tocsin_session"
# Besides the pages' policy (`tocsin.web.pages`): the console's own script file, and its
# requests back to the console for the list's refresh.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {"Content-Security-Policy": POLICY}
FORM_LIMIT = 64_000  # a console form is a few fields; a larger body is not one


@dataclass(frozen=True)
class Operator:
    """The signed-in user of a request."""

    user: str
    role: Role
    session_id: int
    csrf: str
    address: str | None

    def may(self, need: Role) -> bool:
        return accounts.allows(self.role, need)


class Refused(Exception):
    """Answered as a console page: a redirect to sign in, or a refusal saying why."""

    def __init__(self, status: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.location = location


def install(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_request: Request, exc: Refused) -> HTMLResponse:
        if exc.location is not None:
            return HTMLResponse("", exc.status, headers={"Location": exc.location})
        return page("console/refused.html", exc.status, message=str(exc), operator=None)


def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    answer = render(template, status, **values)
    answer.headers.update(HEADERS)
    return answer


def address_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def secure(request: Request) -> bool:
    """Cookies get Secure when the console is reached over TLS (directly, or as the
    configured public URL says: behind a proxy that ends TLS)."""
    public = settings_of(request).config.public_url
    return request.url.scheme == "https" or public.startswith("https://")


async def form_of(request: Request) -> dict[str, list[str]]:
    """The submitted `application/x-www-form-urlencoded` fields (415 for anything else)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if raw and kind != "application/x-www-form-urlencoded":
        raise Refused(415, "send the form as application/x-www-form-urlencoded")
    if len(raw) > FORM_LIMIT:
        raise Refused(413, f"a console form is at most {FORM_LIMIT} bytes")
    return parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)


def field(form: dict[str, list[str]], name: str) -> str:
    return form.get(name, [""])[0].strip()


def check_csrf(operator: Operator, form: dict[str, list[str]]) -> None:
    sent = form.get("csrf", [""])[0]
    if not sent or not hmac.compare_digest(sent.encode(), operator.csrf.encode()):
        raise Refused(403, "this form's security token is missing or stale: reload the page")


def signed_in(need: Role) -> Any:
    """The operator of a request with at least role `need`. A POST must also carry the
    session's CSRF token (checked here, before the route reads anything else)."""

    async def dependency(request: Request) -> Operator:
        settings = settings_of(request)
        cookie = request.cookies.get(COOKIE)
        now = settings.clock.now()
        found = await in_transaction(settings, lambda s: sessions.find(s, cookie, now))
        role = None if found is None else accounts.role_of(settings.config, found.user_name)
        if found is None or role is None:
            path = request.url.path
            target = "/login" if path in ("/", "/alerts") else f"/login?next={quote(path)}"
            raise Refused(303, "sign in first", location=target)
        operator = Operator(found.user_name, role, found.id, found.csrf, address_of(request))
        if request.method == "POST":
            check_csrf(operator, await form_of(request))
        if not operator.may(need):
            raise Refused(403, f"{operator.user} is a {role}; this needs the {need} role")
        return operator

    return Depends(dependency)


async def change_or_refuse(settings: Settings, work: Callable[[Session], object]) -> None:
    """Run a change of one row in a transaction: a 404 page when it does not exist, a 409
    when it cannot change (ended already, changed meanwhile), nothing written either way."""
    try:
        await in_transaction(settings, work)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    except (Conflict, Invalid) as exc:
        raise Refused(409, str(exc)) from None


def audited(
    session: Session,
    operator: Operator,
    action: str,
    now: Any,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The audit row of a console action, in the action's transaction."""
    audit.record(
        session,
        actor=operator.user,
        action=action,
        interface="console",
        now=now,
        target=target,
        address=operator.address,
        detail=detail,
    )
