"""The one outbound HTTP client: channels, HTTP and Prometheus sources, and whatever sends HTTP
next (runbook steps, status-page subscribers) go through `Egress.request`.

What every request gets:

- **a deadline**: `timeout` bounds the whole exchange, connecting to the last body byte (httpx's
  own timeouts bound each read, so a server dripping bytes would otherwise hold on forever);
- **a size cap**: reading stops past `max_bytes`. By default that is an error (`too_large`)
  saying so; with `cut=True` the reply keeps the first `max_bytes` and says it was cut
  (`Reply.cut`), for callers that only look at the start (an uptime probe, an error text);
- **no redirects followed**: a 3xx is the answer, returned to the caller like any status.
  A followed redirect could lead anywhere, past the destination policy's view of the request,
  and a webhook URL that redirects is out of date;
- **a destination policy** (`egress:` in the configuration, `config.egress.EgressConfig`):
  every address a name resolves to is checked when connecting, and only allowed ones are
  connected to, so neither the URL's name nor a DNS answer can lead to a denied address
  (169.254.169.254 by default). A refused request sends nothing;
- **redacted log lines**: one DEBUG line per request (`tocsin.egress`, shown with `-v`) with
  the URL's secrets masked (`redact.url`); httpx's own request lines, which print the full
  URL, are dropped;
- **one error type**, `TransportError(permanent=…)`, with a `kind` (timeout, unreachable,
  tls, denied, too_large) and a message that never contains the URL: webhook URLs are secrets.

Outbound connections are direct: HTTP(S)_PROXY is not used, since through a proxy the only
address Tocsin would see is the proxy's. Tests inject an httpx transport (`transport=`), which
replaces the network and with it the connect-time check.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias

import httpcore
import httpx

from tocsin import redact
from tocsin.config.egress import EgressConfig

log = logging.getLogger("tocsin.egress")
USER_AGENT = "tocsin/0.1"

# What callers name (a test's transport, a reply's headers) without importing httpx: this is
# the one module that does, and an import-linter contract keeps it so.
Transport: TypeAlias = httpx.BaseTransport
Headers: TypeAlias = httpx.Headers
# httpx's defaults, written out because the guarded pool is built here.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class TransportError(Exception):
    """Sending failed. Permanent errors are not retried; others are, with backoff, honouring
    `retry_after` when the service gave one. `kind` says what failed: timeout, unreachable,
    tls, denied, too_large, or status (the service answered with a failure)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: timedelta | None = None,
        kind: str = "status",
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.kind = kind


class DestinationDenied(TransportError):
    """The destination policy refused every address the host resolved to; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True, kind="denied")


@dataclass(frozen=True)
class Reply:
    """What came back: the status, headers and body (at most `max_bytes`), whether the body
    was cut, the URL answered, the time taken and the server's certificate (DER, https only)."""

    status: int
    headers: httpx.Headers
    body: bytes
    cut: bool
    url: str
    seconds: float
    encoding: str
    certificate: bytes | None = None

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding, "replace")


class Egress:
    """An HTTP client with the policy above; thread-safe, one connection pool. `verify`:
    check the server's certificate; `ca_file`: a PEM file of CA certificates trusted besides
    the usual ones (a private CA); `headers` go with every request."""

    def __init__(
        self,
        policy: EgressConfig | None = None,
        *,
        verify: bool = True,
        ca_file: str | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy or EgressConfig()
        context = httpx.create_ssl_context(verify=verify)
        if verify and ca_file:
            context.load_verify_locations(cafile=ca_file)
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=False,
            transport=transport or _GuardedTransport(context, self.policy),
        )
        _quiet_httpx()

    def request(
        self,
        method: str,
        url: str,
        *,
        timeout: timedelta,
        max_bytes: int,
        cut: bool = False,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Reply:
        """Send one request and read its answer within `timeout`; raise TransportError."""
        seconds = timeout.total_seconds()
        started = time.monotonic()
        try:
            with self._client.stream(
                method,
                url,
                params=params,
                json=json,
                data=data,
                content=content,
                headers=headers,
                auth=auth,
                timeout=seconds,
            ) as response:
                body, over = _read(response, max_bytes, started + seconds, seconds)
                reply = Reply(
                    status=response.status_code,
                    headers=response.headers,
                    body=body,
                    cut=over,
                    url=str(response.url),
                    seconds=time.monotonic() - started,
                    encoding=response.encoding or "utf-8",
                    certificate=_certificate(response),
                )
        except TransportError as exc:
            _log_failure(method, url, exc)
            raise
        except httpx.HTTPError as exc:
            error = _classify(exc, seconds)
            _log_failure(method, url, error)
            raise error from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s → %s, %d bytes%s in %.0f ms",
                method,
                redact.url(reply.url),
                reply.status,
                len(reply.body),
                f" (cut at {max_bytes})" if reply.cut else "",
                reply.seconds * 1000,
            )
        if over and not cut:
            raise TransportError(
                f"the answer is larger than {max_bytes} bytes; reading stopped there",
                permanent=True,
                kind="too_large",
            )
        return reply

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Egress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def url_parts(url: str) -> tuple[str, str]:
    """The scheme and host of `url` as a request would see them; ValueError saying what is
    wrong when it cannot be parsed."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(str(exc)) from None
    return parsed.scheme, parsed.host


def _read(
    response: httpx.Response, limit: int, deadline: float, seconds: float
) -> tuple[bytes, bool]:
    """At most `limit` body bytes (after content decoding) before `deadline` (monotonic), and
    whether there was more (reading stops at the first byte past `limit`)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise TransportError(
                f"timed out after {seconds:g} s (the body was still arriving)", kind="timeout"
            )
        if size + len(chunk) > limit:
            chunks.append(chunk[: limit - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _certificate(response: httpx.Response) -> bytes | None:
    """The server's certificate in DER form, or None over plain HTTP."""
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    # httpcore hands over the socket's internal `_ssl._SSLSocket`, which has the same
    # getpeercert as ssl.SSLObject; its argument is positional-only. The binary form is there
    # even when verification is off (the dict form is not).
    getpeercert = getattr(ssl_object, "getpeercert", None)
    if not callable(getpeercert):
        return None
    der = getpeercert(True)
    return der if isinstance(der, bytes) and der else None


def _classify(exc: httpx.HTTPError, seconds: float) -> TransportError:
    """httpx's failure as a TransportError; the text names no URL."""
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"timed out after {seconds:g} s", kind="timeout")
    tls = tls_failure(exc)
    if tls is not None:
        return TransportError(f"TLS: {tls}", kind="tls")
    reason = redact.text(str(exc)) or type(exc).__name__
    return TransportError(f"connection failed: {reason}", kind="unreachable")


def tls_failure(exc: BaseException) -> str | None:
    """The TLS error behind a transport failure, if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {seen.verify_message}"
        if isinstance(seen, ssl.SSLError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return text if "SSL" in text or "CERTIFICATE" in text else None


def _log_failure(method: str, url: str, error: TransportError) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s %s failed (%s): %s", method, redact.url(url), error.kind, error)


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, resolving names itself so that each address is checked
    against the policy before connecting to it (a name is never resolved twice, so a second
    DNS answer cannot differ from the one checked)."""

    def __init__(self, policy: EgressConfig) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        refused = [(a, why) for a in addresses if (why := self._policy.refuses(a)) is not None]
        allowed = [a for a in addresses if a not in dict(refused)]
        if not allowed:
            raise DestinationDenied(f"refused by the egress policy: {refused[0][1]}")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in allowed:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that connects through `_GuardedBackend`."""

    def __init__(self, context: ssl.SSLContext, policy: EgressConfig) -> None:
        super().__init__(verify=context, limits=LIMITS)
        # httpx offers no way to hand its pool a network backend, so the pool it built is
        # replaced by one with the same settings and the guarded backend; the egress tests
        # fail if a new httpx stops using it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=LIMITS.max_connections,
            max_keepalive_connections=LIMITS.max_keepalive_connections,
            keepalive_expiry=LIMITS.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )


class _DropRequestLines(logging.Filter):
    """httpx logs each request with its full URL at INFO; Egress logs it redacted instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


_HTTPX_FILTER = _DropRequestLines()


def _quiet_httpx() -> None:
    logger = logging.getLogger("httpx")
    if _HTTPX_FILTER not in logger.filters:
        logger.addFilter(_HTTPX_FILTER)
