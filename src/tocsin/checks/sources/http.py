"""HTTP endpoints as check sources: one request per evaluation, answered as one row.

The row's columns are what an uptime check looks at: `status`, `response_time_ms`, `body`
(at most `max_body_bytes`, decoded), `json` (the body parsed, or None), `headers` (lower-case
names), `certificate_days_left` (https only), `connected` and `url`. A non-2xx status is an
answer, not an error: conditions decide what it means.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from tocsin.checks.sources.base import Row
from tocsin.clock import Clock, SystemClock
from tocsin.config.sources import HttpSourceConfig
from tocsin.errors import SourceError


class HttpSource:
    """An HTTP(S) endpoint probed with one request per fetch; thread-safe (httpx pools)."""

    def __init__(
        self,
        config: HttpSourceConfig,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Prepare the client without connecting; `clock` dates certificate expiry."""
        self._config = config
        self._clock = clock or SystemClock()
        self._timeout_s = config.timeout.total_seconds()
        self._url = checked_url(config.url)
        # Redirects are not followed: `status` is what the probed URL itself answers.
        self._client = httpx.Client(
            headers=config.headers,
            timeout=self._timeout_s,
            verify=config.verify_tls,
            follow_redirects=False,
            transport=transport,
        )

    @property
    def dialect(self) -> str:
        return "http"

    def fetch(self, query: str | None, params: Mapping[str, Any]) -> list[Row]:
        """Send the configured request and return one row describing the answer.

        `query` and `params` are unused. Raises SourceError `unreachable` (refused, DNS, TLS
        verification) or `timeout` (no complete answer within the timeout).
        """
        body = self._config.body.encode() if self._config.body is not None else None
        started = time.monotonic()
        request = self._client.stream(self._config.method, self._url, content=body)
        with translate_errors(self._url), request as response:
            days_left = self._certificate_days_left(response)
            raw = read_capped(response, self._config.max_body_bytes, started + self._timeout_s)
            elapsed_ms = (time.monotonic() - started) * 1000
        text = raw.decode(response.encoding or "utf-8", errors="replace")
        return [
            {
                "status": response.status_code,
                "response_time_ms": elapsed_ms,
                "body": text,
                "json": _parse_json(text),
                "headers": {name.lower(): value for name, value in response.headers.items()},
                "certificate_days_left": days_left,
                "connected": True,
                "url": str(response.url),
            }
        ]

    def close(self) -> None:
        self._client.close()

    def _certificate_days_left(self, response: httpx.Response) -> float | None:
        """Days until the peer certificate's notAfter, or None over plain HTTP."""
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        # httpcore hands over the socket's internal `_ssl._SSLSocket`, which has the same
        # getpeercert as ssl.SSLObject; its argument is positional-only.
        getpeercert = getattr(ssl_object, "getpeercert", None)
        if not callable(getpeercert):
            return None
        # The binary form is there even when verification is off (the dict form is not).
        der = getpeercert(True)
        if not isinstance(der, bytes):
            return None
        not_after = certificate_not_after(der) if der else None
        if not_after is None:
            return None
        return (not_after - self._clock.now()).total_seconds() / 86400


def checked_url(url: str) -> str:
    """Return `url` if httpx can send to it; raise SourceError('unreachable') otherwise."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise SourceError("unreachable", f"not a valid URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SourceError("unreachable", f"not an http(s) URL: {url!r}")
    return url


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Turn httpx's transport failures into SourceError `timeout` or `unreachable`."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise SourceError("timeout", f"{url}: no answer in time ({_reason(exc)})") from None
    except httpx.TransportError as exc:
        tls = _tls_failure(exc)
        if tls is not None:
            raise SourceError("unreachable", f"TLS: {url}: {tls}") from None
        raise SourceError("unreachable", f"cannot reach {url}: {_reason(exc)}") from None


def read_capped(response: httpx.Response, limit: int, deadline: float) -> bytes:
    """Read at most `limit` body bytes (after content decoding) before `deadline` (monotonic).

    httpx's timeouts bound each read, not the whole answer; the deadline stops a server that
    drips bytes forever. Raises SourceError('timeout') past it.
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise SourceError("timeout", f"{response.url}: the body took too long to arrive")
        chunks.append(chunk[: limit - size])
        size += len(chunks[-1])
        if size >= limit:
            break
    return b"".join(chunks)


def certificate_not_after(der: bytes) -> datetime | None:
    """The notAfter time of a DER X.509 certificate, or None if it cannot be read.

    Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
    signature, issuer, validity SEQUENCE { notBefore, notAfter }, … }, … }
    """
    try:
        _, start, _ = _tlv(der, 0)  # Certificate
        _, pos, _ = _tlv(der, start)  # tbsCertificate
        tag, _, end = _tlv(der, pos)
        if tag == 0xA0:  # explicit version
            pos = end
        for _field in ("serialNumber", "signature", "issuer"):
            pos = _tlv(der, pos)[2]
        _, validity, _ = _tlv(der, pos)
        not_before_end = _tlv(der, validity)[2]
        tag, start, end = _tlv(der, not_before_end)
        return _asn1_time(tag, der[start:end].decode("ascii"))
    except (IndexError, ValueError):
        return None


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """One DER tag-length-value at `pos`: (tag, start of value, end of value)."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _asn1_time(tag: int, value: str) -> datetime:
    if tag == 0x17:  # UTCTime, YYMMDDHHMMSSZ; RFC 5280: YY < 50 is 20YY
        year = int(value[:2])
        value = f"{2000 + year if year < 50 else 1900 + year}{value[2:]}"
    elif tag != 0x18:  # GeneralizedTime, YYYYMMDDHHMMSSZ
        raise ValueError(f"not an ASN.1 time (tag {tag:#x})")
    return datetime.strptime(value, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


def _parse_json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _tls_failure(exc: BaseException) -> str | None:
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


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
