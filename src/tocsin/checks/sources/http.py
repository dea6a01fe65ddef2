"""HTTP endpoints as check sources: one request per evaluation, answered as one row.

The row's columns are what an uptime check looks at: `status`, `response_time_ms`, `body`
(at most `max_body_bytes`, decoded), `json` (the body parsed, or None), `headers` (lower-case
names), `certificate_days_left` (https only), `connected` and `url`. A non-2xx status is an
answer, not an error: conditions decide what it means.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from tocsin import redact
from tocsin.checks.sources.base import Row
from tocsin.clock import Clock, SystemClock
from tocsin.config.egress import EgressConfig
from tocsin.config.sources import HttpSourceConfig
from tocsin.egress import Egress, Transport, TransportError, url_parts
from tocsin.errors import SourceError


class HttpSource:
    """An HTTP(S) endpoint probed with one request per fetch; thread-safe (one pool)."""

    def __init__(
        self,
        config: HttpSourceConfig,
        clock: Clock | None = None,
        transport: Transport | None = None,
        egress: EgressConfig | None = None,
    ) -> None:
        """Prepare the client without connecting; `clock` dates certificate expiry."""
        self._config = config
        self._clock = clock or SystemClock()
        self._url = checked_url(config.url)
        # What the request carries that is secret, masked wherever the answer echoes it: a
        # row is stored with its evaluation and shown by the API.
        self._secrets = redact.request_secrets(config.url, headers=config.headers)
        # Redirects are not followed (egress never does): `status` is what the probed URL
        # itself answers.
        ca_file = str(config.ca_file) if config.ca_file is not None else None
        try:
            self._egress = Egress(
                egress,
                verify=config.verify_tls,
                ca_file=ca_file,
                headers=config.headers,
                transport=transport,
            )
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SourceError("tls", f"cannot use ca_file {ca_file}: {reason}") from None

    @property
    def dialect(self) -> str:
        return "http"

    def fetch(self, query: str | None, params: Mapping[str, Any]) -> list[Row]:
        """Send the configured request and return one row describing the answer.

        `query` and `params` are unused. Raises SourceError `unreachable` (refused, DNS, or an
        address the egress policy denies), `tls` (the certificate does not verify: expired,
        another host's, signed by a CA not trusted; `ca_file` trusts a private one) or
        `timeout` (no complete answer within the timeout).
        """
        body = self._config.body.encode() if self._config.body is not None else None
        with translate_errors(self._url):
            reply = self._egress.request(
                self._config.method,
                self._url,
                timeout=self._config.timeout,
                max_bytes=self._config.max_body_bytes,
                cut=True,  # documented: the body is at most max_body_bytes
                content=body,
            )
        text = self._scrub(reply.text)
        return [
            {
                "status": reply.status,
                "response_time_ms": reply.seconds * 1000,
                "body": text,
                "json": _parse_json(text),
                "headers": {
                    name.lower(): self._scrub(value) for name, value in reply.headers.items()
                },
                "certificate_days_left": self._days_left(reply.certificate),
                "connected": True,
                "url": redact.url(reply.url),
            }
        ]

    def _scrub(self, text: str) -> str:
        return redact.known(text, self._secrets) if self._secrets else text

    def close(self) -> None:
        self._egress.close()

    def _days_left(self, der: bytes | None) -> float | None:
        """Days until the peer certificate's notAfter, or None over plain HTTP."""
        not_after = certificate_not_after(der) if der else None
        if not_after is None:
            return None
        return (not_after - self._clock.now()).total_seconds() / 86400


def checked_url(url: str) -> str:
    """Return `url` if it can be sent to; raise SourceError('unreachable') otherwise."""
    try:
        scheme, host = url_parts(url)
    except ValueError as exc:
        raise SourceError("unreachable", f"not a valid URL {redact.url(url)!r}: {exc}") from None
    if scheme not in ("http", "https") or not host:
        raise SourceError("unreachable", f"not an http(s) URL: {redact.url(url)!r}")
    return url


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Turn the egress' TransportError into SourceError `timeout`, `tls`, `query` (an answer
    too large) or `unreachable`, naming the URL with its secrets masked."""
    shown = redact.url(url)
    try:
        yield
    except TransportError as exc:
        if exc.kind == "timeout":
            raise SourceError("timeout", f"{shown}: no answer in time ({exc})") from None
        if exc.kind == "tls":
            reason = str(exc).removeprefix("TLS: ")
            raise SourceError("tls", f"TLS: {shown}: {reason}") from None
        if exc.kind == "too_large":
            raise SourceError("query", f"{shown}: {exc}") from None
        raise SourceError("unreachable", f"cannot reach {shown}: {exc}") from None


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
