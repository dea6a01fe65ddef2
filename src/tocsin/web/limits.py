"""Bad-input guards that sit before any handler: a body size limit that also counts chunked
bodies, and a per-token rate limit.

The rate limit is a token bucket per token name kept in this process: enough to stop one
runaway sender, not a quota shared across instances (each instance limits on its own).
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's own body parsing passes it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: refuse a declared Content-Length over the limit at once, and stop
    reading a body (chunked or lying about its length) as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_too_large(scope, self.limit):
            await refuse(send, self.limit, scope.get("path", ""))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


@dataclass
class Read:
    """A body as the fast paths read it: its chunks, whether they passed the limit (reading
    stopped there), and whether the client has more to send."""

    chunks: list[bytes]
    too_large: bool
    more: bool


async def read_body(receive: Receive, limit: int) -> Read | None:
    """Read a request's body until its end or until it passes `limit` bytes; None when the
    client went away (nobody to answer)."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
        if size > limit:
            return Read(chunks, True, more)
    return Read(chunks, False, False)


def declared_too_large(scope: Scope, limit: int) -> bool:
    """The request's Content-Length says its body is over `limit` bytes."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return True
    return False


async def refuse(send: Send, limit: int, path: str = "") -> None:
    """The 413 for a declared length over the limit (the connection closes: the body is
    never read); under `/api/v2` a bare JSON string, as Alertmanager's error bodies are."""
    message = f"the request body is larger than {limit} bytes"
    content: object = (
        message
        if path.startswith("/api/v2/")
        else {"error": "payload_too_large", "message": message}
    )
    body = json.dumps(content, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """`rate` requests per second per key, bursts up to `burst`; thread-safe."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds to wait before the next request will be."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
