"""Server-side console sessions and the cookie that names one.

The cookie is `TOKEN.SIGNATURE`: a random 32-byte token and its HMAC-SHA256 under a server
secret kept in the store, so a forged cookie is refused before any lookup. The store keeps
the token's SHA-256 only. Signing out or revoking sets `revoked_at`: the next request with
that cookie is signed out (nothing is cached)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.console.models import ConsoleSession
from tocsin.tokens.service import server_secret

SECRET_NAME = "console_cookie"  # noqa: S105 (the row's name, not a secret)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signature(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def open_(
    session: Session, user: str, address: str | None, ttl: timedelta, now: datetime
) -> tuple[ConsoleSession, str]:
    """A new session for `user`, and the cookie value naming it (shown only this once)."""
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        token_hash=_digest(token),
        user_name=user,
        csrf=secrets.token_urlsafe(32),
        address=(address or "")[:64] or None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return row, f"{token}.{_signature(server_secret(session, SECRET_NAME, now), token)}"


def find(session: Session, cookie: str | None, now: datetime) -> ConsoleSession | None:
    """The live session a cookie names, or None (missing, forged, signed out, expired)."""
    if not cookie or len(cookie) > 200:
        return None
    token, _, signature = cookie.rpartition(".")
    if not token:
        return None
    key = server_secret(session, SECRET_NAME, now)
    if not hmac.compare_digest(_signature(key, token), signature):
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def revoke(session: Session, session_id: int, now: datetime) -> bool:
    """End one session (signing out). False if it had ended already."""
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def revoke_user(session: Session, user: str, now: datetime) -> int:
    """End every live session of `user` (a password change, `tocsin user sign-out`)."""
    result = session.execute(
        update(ConsoleSession)
        .where(
            ConsoleSession.user_name == user,
            ConsoleSession.revoked_at.is_(None),
            ConsoleSession.expires_at > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
