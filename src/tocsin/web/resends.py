"""Prometheus's re-sends answered in plain ASGI, ahead of FastAPI's stack.

Prometheus posts every firing alert to `POST /api/v2/alerts` every cycle, and nearly every
such batch repeats what the store holds: the API's memory answers it
(`tocsin.inbound.repeats`), and then FastAPI's routing, dependencies and response classes
were about a quarter of the request's cost. `Resends` answers only that case itself: a known
token with the `ingest` scope within its rate, a body within the limit that parses, and a
batch the memory answers entirely. Anything else — no token, a bad one, a bad body, a batch
that changes something or names an alert not remembered, a token over its rate — goes to
FastAPI's route with the body replayed, and is answered there exactly as before (the
FastAPI route stays registered and documented).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.inbound import alertmanager
from tocsin.tokens import service as auth
from tocsin.web.deps import Settings, TokenCache
from tocsin.web.limits import declared_too_large, read_body

PATH = "/api/v2/alerts"
_JSON = (b"content-type", b"application/json")  # as JSONResponse sends it
_NULL = b"null"  # the route's answer: JSONResponse(None, 200)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replay(chunks: list[bytes], more: bool, receive: Receive) -> Receive:
    """A `receive` that hands out the body already read, then whatever `receive` has left."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": more or i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": more}]

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class Resends:
    """ASGI: `POST /api/v2/alerts` batches the memory answers, else `fallback` (FastAPI's
    whole stack) with the body replayed."""

    def __init__(self, settings: Settings, tokens: TokenCache, limit: int, fallback: ASGIApp):
        self.settings = settings
        self.tokens = tokens
        self.limit = limit
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.settings
        token = auth.from_header(_header(scope, b"authorization"))
        if (
            scope["method"] != "POST"
            or scope.get("root_path")
            or token is None
            or not settings.repeats.enabled
            or declared_too_large(scope, self.limit)
        ):
            await self.fallback(scope, receive, send)
            return
        who = await self.tokens.principal(settings, token)
        if who is None or not who.allows("ingest"):
            await self.fallback(scope, receive, send)
            return
        read = await read_body(receive, self.limit)
        if read is None:
            return  # the client went away: nobody to answer
        if read.too_large:  # FastAPI's BodyLimit answers it
            await self.fallback(scope, _replay(read.chunks, read.more, receive), send)
            return
        body = b"".join(read.chunks)
        now = settings.clock.now()
        try:
            batch = alertmanager.parse_postable(body, now, who.name)
        except Exception:  # noqa: BLE001 - FastAPI's route parses it again and answers
            batch = None
        known = settings.repeats.answer(batch, now) if batch else None
        # The rate is taken only when answering here: FastAPI's route takes it otherwise.
        if known is None or settings.limiter.take(who.name):
            await self.fallback(scope, _replay([body], False, receive), send)
            return
        headers = [(b"content-length", b"4"), _JSON]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": _NULL})
