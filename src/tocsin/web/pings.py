"""Heartbeat pings answered in plain ASGI, ahead of FastAPI's stack.

A ping is the busiest request there is (every cron job, every run) and the simplest: read
the body, record the ping, answer "OK". FastAPI's routing, dependency injection, `Request`
and response classes cost more than the store does here, so `TocsinApp` (`tocsin.web.app`,
what `create_app` builds) hands `/ping/…` requests to `Pings` first. It answers only the
usual shapes — GET, POST or HEAD on `/ping/{key}`, `/ping/{key}/start`, `/ping/{key}/fail` or
`/ping/{key}/{exit_code}` with a plain exit code 0..255 — and passes anything else (another
method, a bad exit code, a key over 64 characters, a trailing slash) to FastAPI, whose routes
for these URLs stay registered: they answer the odd cases (405, 422, redirect) and document
the URLs in the OpenAPI document. Both record a ping through `record`, so they answer alike:
200 "OK", 404 "not found", 413 as `BodyLimit` does, 503 when the store is unreachable.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin.errors import NotFound
from tocsin.heartbeats import service as heartbeats
from tocsin.web import errors
from tocsin.web.deps import Settings, committed
from tocsin.web.limits import BodyTooLarge, declared_too_large, read_body, refuse

PREFIX = "/ping/"
KEY_LENGTH = 64  # the routes' `max_length` on the key
METHODS = frozenset({"GET", "POST", "HEAD"})
SUFFIXES = {"start": "start", "fail": "fail"}
_TEXT = (b"content-type", b"text/plain; charset=utf-8")  # as PlainTextResponse sends it


async def record(
    settings: Settings,
    key: str,
    kind: str,
    exit_code: int | None,
    raw: bytes,
    method: str,
    remote: str | None,
) -> tuple[int, str]:
    """Record one ping once committed: (status, text) to answer, 200 "OK" or 404."""
    body = raw[-heartbeats.BODY_LIMIT * 4 :].decode("utf-8", errors="replace")

    def work(session: Session) -> bool:
        return heartbeats.ping(
            session,
            settings.beats,
            key,
            kind,
            settings.clock.now(),
            settings.pipeline,
            exit_code=exit_code,
            body=body,
            method=method,
            remote=remote,
            history=settings.history,
        )

    try:
        await committed(settings, work)
    except NotFound:
        return 404, "not found"
    return 200, "OK"


def parse(scope: Scope) -> tuple[str, str, int | None] | None:
    """(key, kind, exit code) of a ping the fast path answers, None for anything else."""
    if scope["method"] not in METHODS or scope.get("root_path"):
        return None
    parts = scope["path"][len(PREFIX) :].split("/")
    key = parts[0]
    if not key or len(key) > KEY_LENGTH or len(parts) > 2:
        return None
    if len(parts) == 1:
        return key, "success", None
    suffix = parts[1]
    kind = SUFFIXES.get(suffix)
    if kind is not None:
        return key, kind, None
    # Only the plain spelling of 0..255; FastAPI judges the rest ("007", "256", "x").
    if suffix.isascii() and suffix.isdigit() and len(suffix) <= 3:
        code = int(suffix)
        if code <= 255 and str(code) == suffix:
            return key, "success", code
    return None


class Pings:
    """ASGI: the pings `parse` accepts, else `fallback` (FastAPI's whole stack). `limit` is
    the body limit, fixed when the app is made as `BodyLimit`'s is."""

    def __init__(self, settings: Settings, limit: int, fallback: ASGIApp) -> None:
        self.settings = settings
        self.limit = limit
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ping = parse(scope)
        if ping is None:
            await self.fallback(scope, receive, send)
            return
        limit = self.limit
        if declared_too_large(scope, limit):
            await refuse(send, limit)
            return
        body = await read_body(receive, limit)
        if body is None:
            return  # the client went away: nobody to answer
        if body.too_large:
            too_large = BodyTooLarge(limit)
            answer = JSONResponse(errors.body(413, too_large.detail), 413)
            await answer(scope, receive, send)
            return
        client = scope.get("client")
        try:
            status, text = await record(
                self.settings,
                *ping,
                b"".join(body.chunks),
                scope["method"],
                client[0] if client else None,
            )
        except OperationalError:
            await errors.unavailable()(scope, receive, send)
            return
        content = text.encode()
        headers = [(b"content-length", str(len(content)).encode()), _TEXT]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
