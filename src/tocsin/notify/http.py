"""How JSON and form channels speak HTTP, over the one outbound client (`tocsin.egress`).

2xx is success. 429 and 5xx, timeouts and connection errors are retried (`Retry-After`
honoured); a 3xx (redirects are not followed) and any other 4xx are permanent. The error
text never contains the URL, because webhook URLs are secrets, and what a service echoes back
of the request's own secrets (a routing key, a token) is masked before it is stored.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, Self, TypeVar

from tocsin import redact
from tocsin.egress import Egress, Headers, Reply, TransportError
from tocsin.notify.base import Surroundings
from tocsin.outbox.payload import Message


class HttpSpec(Protocol):
    """What a JSON channel's configuration gives: where to POST and how long to wait."""

    @property
    def url(self) -> str: ...

    @property
    def timeout(self) -> timedelta: ...


Spec = TypeVar("Spec", bound=HttpSpec)

MAX_RESPONSE_BYTES = 64 * 1024  # a reply is only read for its status and an error's words
DETAIL_CHARS = 300


def post(
    client: Egress,
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
    reply = client.request(
        "POST",
        url,
        timeout=timeout,
        max_bytes=MAX_RESPONSE_BYTES,
        cut=True,
        json=json,
        data=data,
        content=content,
        headers=headers,
        auth=auth,
    )
    status = reply.status
    if 200 <= status < 300:
        return reply
    secrets = redact.request_secrets(url, json=json, data=data, headers=headers, auth=auth)
    # Masked before it is cut, so a cut cannot leave part of a secret behind.
    detail = redact.text(reply.text, secrets)[:DETAIL_CHARS].strip()
    if status == 429:
        raise TransportError(f"429 rate limited: {detail}", retry_after=retry_after(reply.headers))
    if status >= 500:
        raise TransportError(f"{status}: {detail}", retry_after=retry_after(reply.headers))
    if 300 <= status < 400:
        raise TransportError(
            f"{status}: redirects are not followed (is the URL out of date?)", permanent=True
        )
    raise TransportError(f"{status}: {detail}", permanent=True)


def retry_after(headers: Headers) -> timedelta | None:
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


class JsonChannel(Generic[Spec]):
    """A channel that POSTs one JSON body per message to its configured URL; a subclass says
    what the body is (`body`, None for nothing to send) and which headers go with it."""

    @classmethod
    def from_config(cls, name: str, config: Spec, env: Surroundings) -> Self:
        return cls(name, config, env.http, env.public_url)

    def __init__(self, name: str, config: Spec, client: Egress, public_url: str) -> None:
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
