"""Acknowledge links: a signed, expiring token for one alert, put into notifications so a
person can acknowledge from a phone without logging in.

A token is `base64url(alert_id.expires_unix).base64url(HMAC-SHA256(secret, that))`. The
secret is the configuration's `secret_key` when set, else one generated on first use and
kept in the store, so every instance sharing the store verifies every other's links.
Opening the link shows a confirm page and changes nothing (link previews and mail scanners
fetch it); only the page's POST acknowledges.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.config.model import TocsinConfig
from tocsin.errors import Invalid
from tocsin.tokens.service import server_secret

SECRET_NAME = "ack_links"  # noqa: S105 - the row that holds the key, not the key


class AckLinkError(Invalid):
    """The link cannot be used; the message says why (malformed, tampered, expired)."""


def secret(session: Session, config: TocsinConfig, now: datetime) -> bytes:
    """The signing key: configured, else kept in the store (created once, race-free)."""
    if config.secret_key:
        return config.secret_key.encode()
    return server_secret(session, SECRET_NAME, now)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def make_token(key: bytes, alert_id: int, expires_at: datetime) -> str:
    body = _b64(f"{alert_id}.{int(expires_at.timestamp())}".encode())
    return f"{body}.{_sign(key, body)}"


def verify_token(key: bytes, token: str, now: datetime, alert_id: int | None = None) -> int:
    """The alert id the token is for; AckLinkError if malformed, tampered, expired or (when
    `alert_id` is given) for another alert."""
    body, _, signature = token.partition(".")
    if not body or not signature or len(token) > 200:
        raise AckLinkError("this acknowledge link is malformed (was it cut short?)")
    if not hmac.compare_digest(_sign(key, body), signature):
        raise AckLinkError("this acknowledge link is not valid (it was altered or is not ours)")
    try:
        found_id, expires = (int(p) for p in _unb64(body).decode().split("."))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AckLinkError("this acknowledge link is malformed") from None
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise AckLinkError(f"this acknowledge link expired at {expires_at:%Y-%m-%d %H:%M} UTC")
    if alert_id is not None and found_id != alert_id:
        raise AckLinkError(f"this acknowledge link is for alert {found_id}, not {alert_id}")
    return found_id


def link(session: Session, config: TocsinConfig, alert_id: int, now: datetime) -> str:
    """The full URL to put into a notification for this alert."""
    return url(config, secret(session, config, now), alert_id, now)


def url(config: TocsinConfig, key: bytes, alert_id: int, now: datetime) -> str:
    """`link` with the signing key already read (a batch of alerts reads it once)."""
    ttl: timedelta = config.api.ack_link_ttl
    token = make_token(key, alert_id, now + ttl)
    return f"{config.public_url.rstrip('/')}/ack/{token}"


def fields(
    session: Session, config: TocsinConfig, alert: Alert, now: datetime, key: bytes | None = None
) -> dict[str, Any]:
    """What a notification of this alert carries: the link (`ack_url`) while it fires,
    nothing otherwise (`key`: the signing key, when the caller has read it already)."""
    if alert.state != "firing":
        return {}
    return {"ack_url": url(config, key or secret(session, config, now), alert.id, now)}
