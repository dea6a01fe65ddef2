"""One way for channels to speak HTTP: timeouts, a response cap, and failures classified.

2xx is success. 429 and 5xx, timeouts and connection errors are retried (`Retry-After`
honoured); any other 4xx is permanent. The error text never contains the URL, because
webhook URLs are secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, Self, TypeVar

import httpx

from tocsin.notify.base import Surroundings, TransportError
from tocsin.outbox.payload import Message


class HttpSpec(Protocol):
    """What a JSON channel's configuration gives: where to POST and how long to wait."""

    @property
    def url(self) -> str: ...

    @property
    def timeout(self) -> timedelta: ...


Spec = TypeVar("Spec", bound=HttpSpec)

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Reply:
    """What came back, with the body capped at MAX_RESPONSE_BYTES."""

    status: int
    headers: httpx.Headers
    text: str


def post(
    client: httpx.Client,
    url: str,
    *,
    timeout: timedelta,
    json: Any = None,
    data: dict[str, str] | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Reply:
    """POST and return the reply, or raise TransportError saying whether to retry."""
    try:
        with client.stream(
            "POST",
            url,
            json=json,
            data=data,
            content=content,
            headers=headers,
            auth=auth,
            timeout=timeout.total_seconds(),
        ) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_RESPONSE_BYTES:
                    break
            reply = Reply(
                response.status_code,
                response.headers,
                body[:MAX_RESPONSE_BYTES].decode(response.encoding or "utf-8", "replace"),
            )
    except httpx.TimeoutException:
        raise TransportError(f"timed out after {timeout.total_seconds():g} s") from None
    except httpx.HTTPError as exc:
        raise TransportError(f"connection failed: {type(exc).__name__}") from None
    status = reply.status
    if 200 <= status < 300:
        return reply
    detail = reply.text[:300].strip()
    if status == 429:
        raise TransportError(f"429 rate limited: {detail}", retry_after=retry_after(reply.headers))
    if status >= 500:
        raise TransportError(f"{status}: {detail}", retry_after=retry_after(reply.headers))
    raise TransportError(f"{status}: {detail}", permanent=True)


def retry_after(headers: httpx.Headers) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return timedelta(seconds=max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    if now is None:
        return None
    return max(timedelta(0), when - now)


def make_client() -> httpx.Client:
    """The channels' shared client: no redirects (a webhook that redirects is misconfigured)."""
    return httpx.Client(follow_redirects=False, headers={"User-Agent": "tocsin/0.1"})


class JsonChannel(Generic[Spec]):
    """A channel that POSTs one JSON body per message to its configured URL; a subclass says
    what the body is (`body`, None for nothing to send) and which headers go with it."""

    @classmethod
    def from_config(cls, name: str, config: Spec, env: Surroundings) -> Self:
        return cls(name, config, env.http, env.public_url)

    def __init__(self, name: str, config: Spec, client: httpx.Client, public_url: str) -> None:
        self.name = name
        self._config = config
        self._client = client
        self._public_url = public_url

    def body(self, message: Message) -> dict[str, Any] | None:
        raise NotImplementedError

    def headers(self, message: Message) -> dict[str, str] | None:
        return {"X-Tocsin-Notification-Id": message.id}

    def send(self, message: Message) -> None:
        body = self.body(message)
        if body is None:
            return
        post(
            self._client,
            self._config.url,
            timeout=self._config.timeout,
            json=body,
            headers=self.headers(message),
        )
