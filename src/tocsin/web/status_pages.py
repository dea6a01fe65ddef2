"""The public status page, `/status` (no token: customers read it), its stylesheet and logo,
the uptime inputs as CSV, the Atom feed and a badge per component.

Answers carry `Cache-Control: no-store`; the server keeps the page for as long as the store
and the clock's second have not moved (`web.status_cache`), so an update shows on the next
load on every instance and the page costs one render a second however many read it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from sqlalchemy.orm import Session

from tocsin.config.status import LOGO_TYPES, SubscribersConfig
from tocsin.errors import Invalid
from tocsin.statuspage import feeds, history, render, subscribers
from tocsin.statuspage.service import Snapshot, snapshot
from tocsin.statuspage.uptime import Uptime
from tocsin.web.deps import AppSettings, Settings, in_transaction, read_only
from tocsin.web.limits import RateLimiter, retry_after
from tocsin.web.status_cache import cached

router = APIRouter(tags=["status"])
NO_STORE = {"Cache-Control": "no-store"}


async def current(settings: Settings) -> Snapshot:
    config = settings.config.status
    now = settings.clock.now()
    return await read_only(settings, lambda s: snapshot(s, config, now))


async def with_uptime(settings: Settings) -> tuple[Snapshot, dict[str, Uptime]]:
    config = settings.config.status
    now = settings.clock.now()

    def read(session: Session) -> tuple[Snapshot, dict[str, Uptime]]:
        return snapshot(session, config, now), history.per_component(session, config, now)

    return await read_only(settings, read)


def page_url(settings: Settings) -> str:
    return settings.config.public_url.rstrip("/") + "/status"


@router.get("/status", response_class=HTMLResponse, summary="The public status page")
async def status_page(settings: AppSettings) -> HTMLResponse:
    async def make() -> str:
        snap, uptime = await with_uptime(settings)
        config = settings.config.status
        # Rendered on a worker thread: tens of milliseconds the event loop keeps serving in.
        html: str = await run_in_threadpool(
            render.page,
            snap,
            base="/status",
            logo=config.logo,
            uptime=uptime,
            subscribe=bool(config.subscribers),
        )
        return html

    return HTMLResponse(await cached(settings, "page", make), headers=NO_STORE)


@router.get("/status/uptime.csv", summary="The spans the page's uptime is computed from")
async def uptime_csv(settings: AppSettings) -> Response:
    config = settings.config.status
    now = settings.clock.now()
    found = await read_only(settings, lambda s: history.inputs(s, config, now))
    return Response(feeds.inputs_csv(found), media_type="text/csv", headers=NO_STORE)


@router.get("/status/history.atom", summary="Incidents and maintenance as an Atom feed")
async def atom(settings: AppSettings) -> Response:
    feed = feeds.atom(await current(settings), page_url(settings))
    return Response(feed, media_type="application/atom+xml", headers=NO_STORE)


@router.get("/status/badge/{component_id}.svg", summary="A component's status as an SVG badge")
async def badge(component_id: str, settings: AppSettings) -> Response:
    snap = await current(settings)
    for view in snap.components:
        if view.id == component_id:
            return Response(feeds.badge(view), media_type="image/svg+xml", headers=NO_STORE)
    known = ", ".join(v.id for v in snap.components) or "none configured"
    return Response(f"no component {component_id!r} (known: {known})", 404, media_type="text/plain")


@router.get("/status/status.css", include_in_schema=False)
async def stylesheet() -> Response:
    css = render.CSS.read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/status/logo.{ext}", include_in_schema=False)
async def logo(ext: str, settings: AppSettings) -> Response:
    path = settings.config.status.logo
    if path is None or path.suffix.lower() != f".{ext.lower()}":
        return Response("no such logo", 404, media_type="text/plain")
    try:
        data = path.read_bytes()
    except OSError:
        return Response("no such logo", 404, media_type="text/plain")
    return Response(data, media_type=LOGO_TYPES[path.suffix.lower()], headers=NO_STORE)


# --- subscribers -------------------------------------------------------------------------


def _limited(settings: Settings, request: Request) -> float:
    """0 when this client may subscribe now, else the seconds to wait (one limiter per app,
    made again when `per_minute` changes on a reload)."""
    subscribers = settings.config.status.subscribers
    per_minute = subscribers.per_minute if subscribers else 5
    state = request.app.state
    held: tuple[int, RateLimiter] | None = getattr(state, "status_subscribe_limiter", None)
    if held is None or held[0] != per_minute:
        held = (per_minute, RateLimiter(per_minute / 60, per_minute))
        state.status_subscribe_limiter = held
    client = request.client.host if request.client else "unknown"
    return held[1].take(client)


async def _form(request: Request) -> tuple[dict[str, list[str]], bool]:
    """The posted fields (a form, or a JSON object) and whether JSON was posted."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise Invalid("the body is not JSON") from None
        if not isinstance(data, dict):
            raise Invalid("the body must be a JSON object")
        fields: dict[str, list[str]] = {}
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in values):
                raise Invalid(f"{key}: text, or a list of text")
            fields[key] = values
        return fields, True
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True), False


def _one(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


def _page(settings: Settings, status: int = 200, **parts: Any) -> HTMLResponse:
    html = render.subscribe_page(settings.config.status.title, base="/status", **parts)
    return HTMLResponse(html, status, headers=NO_STORE)


@router.get("/status/subscribe", response_class=HTMLResponse, summary="The subscribe form")
async def subscribe_form(settings: AppSettings) -> HTMLResponse:
    config = settings.config.status
    if config.subscribers is None:
        return _page(settings, 404, heading="Subscribing is off", message="Not configured.")
    shown = [{"id": c.id, "name": c.name} for c in config.components]
    return _page(settings, heading="Subscribe to updates", form="subscribe", components=shown)


@router.post(
    "/status/subscribe",
    summary="Subscribe: kind (email|webhook|slack|discord), address, components (a form or JSON)",
)
async def subscribe(request: Request, settings: AppSettings) -> Response:
    wait = _limited(settings, request)
    if wait:
        headers = {"Retry-After": retry_after(wait)}
        return PlainTextResponse("too many subscribe requests: try later", 429, headers=headers)
    config = settings.config.status
    try:
        fields, as_json = await _form(request)
    except Invalid as exc:
        return PlainTextResponse(str(exc), 400)
    kind, address = _one(fields, "kind") or "email", _one(fields, "address")
    chosen = [c for c in fields.get("components", []) if c]
    now = settings.clock.now()
    url = page_url(settings)
    try:
        done = await in_transaction(
            settings,
            lambda s: subscribers.subscribe(s, config, url, kind, address, chosen, now),
        )
    except Invalid as exc:
        if as_json:
            return JSONResponse({"detail": str(exc)}, 400)
        return PlainTextResponse(str(exc), 400)
    if done.kind == "email":
        message = (
            "If this address can be subscribed, a mail with a link to confirm is on its way; "
            "nothing is sent to it before that."
        )
    else:
        message = "Subscribed: incidents and maintenance will be posted to this webhook."
    if as_json:
        answer: dict[str, Any] = {"kind": done.kind, "message": message}
        if done.key is not None:
            answer["signing_key"] = done.key  # shown once: the signature's key
        return JSONResponse(answer, 202 if done.kind == "email" else 201, headers=NO_STORE)
    if done.key is not None:
        message += f" Its signing key (shown once): {done.key}"
    return _page(
        settings, 202 if done.kind == "email" else 201, heading="Thank you", message=message
    )


LinkAction = Callable[[Session, SubscribersConfig, str, str, datetime], bool]


def _button(settings: Settings, heading: str, action: str, sid: str, given: str) -> HTMLResponse:
    """A link's page: a button that posts it back (a GET changes nothing)."""
    button = heading.split(" ", 1)[0]
    return _page(
        settings, heading=heading, form=action, subscriber_id=sid[:36], token=given[:64],
        button=button,
    )  # fmt: skip


async def _follow(
    request: Request, settings: Settings, sid: str, given: str, act: LinkAction, done: str
) -> HTMLResponse:
    """A link's button posted (id and token in the form, else in the query)."""
    config = settings.config.status.subscribers
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    sid = (_one(fields, "id") or sid)[:36]
    given = (_one(fields, "token") or given)[:64]
    now = settings.clock.now()
    ok = config is not None and await in_transaction(
        settings, lambda s: act(s, config, sid, given, now)
    )
    if not ok:
        return _page(settings, 400, heading="This link does not work", message="It may be old.")
    return _page(settings, heading=done.split(":")[0], message=done.split(": ", 1)[1])


@router.get("/status/subscribe/confirm", response_class=HTMLResponse, include_in_schema=False)
async def confirm_form(settings: AppSettings, id: str = "", token: str = "") -> HTMLResponse:
    return _button(settings, "Confirm your subscription", "/status/subscribe/confirm", id, token)


@router.post("/status/subscribe/confirm", response_class=HTMLResponse, include_in_schema=False)
async def confirm(
    request: Request, settings: AppSettings, id: str = "", token: str = ""
) -> HTMLResponse:
    done = "Subscribed: you will be mailed incidents and maintenance."
    return await _follow(request, settings, id, token, subscribers.confirm, done)


@router.get("/status/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe_form(settings: AppSettings, id: str = "", token: str = "") -> HTMLResponse:
    return _button(settings, "Unsubscribe", "/status/unsubscribe", id, token)


@router.post("/status/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe(
    request: Request, settings: AppSettings, id: str = "", token: str = ""
) -> HTMLResponse:
    """The button's post, and RFC 8058's one-click post (`List-Unsubscribe=One-Click` to the
    header's URL, which carries id and token in its query)."""
    done = "Unsubscribed: nothing more will be sent."
    return await _follow(request, settings, id, token, subscribers.unsubscribe, done)
