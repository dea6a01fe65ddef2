"""One-time, expiring invite links: a configured user without a console password opens the
link and chooses one. The link carries a random token; the store keeps its SHA-256 only, and
using it is a compare-and-set on `used_at`, so a link works once even with two tabs."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.config.model import TocsinConfig
from tocsin.console import accounts
from tocsin.console.models import ConsoleInvite
from tocsin.errors import Conflict, Invalid, NotFound

LONGEST = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session,
    config: TocsinConfig,
    user: str,
    by: str,
    now: datetime,
    ttl: timedelta = timedelta(days=7),
) -> str:
    """A new invite for `user` (configured, without a password yet); its token, shown once.
    NotFound, Conflict (has a password) or Invalid (`ttl`), nothing written."""
    if user not in config.users:
        raise NotFound(f"no user named {user!r} in the configuration's users")
    if accounts.has_password(session, user):
        raise Conflict(f"{user} has a console password already: use `tocsin user set-password`")
    if not timedelta(minutes=5) <= ttl <= LONGEST:
        raise Invalid("an invite lasts between 5m and 30d")
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleInvite(
            token_hash=_digest(token),
            user_name=user,
            created_by=by[:100],
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return token


def find(session: Session, token: str, now: datetime) -> ConsoleInvite | None:
    """The invite this token names, if it is unused and has not expired."""
    if not 20 <= len(token) <= 100:
        return None
    found = session.scalar(select(ConsoleInvite).where(ConsoleInvite.token_hash == _digest(token)))
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    return found


def use(session: Session, config: TocsinConfig, token: str, password: str, now: datetime) -> str:
    """Set the invited user's password and spend the invite; the user. Invalid for a bad
    password, Conflict when the link is unknown, used or expired — nothing written."""
    if not accounts.MIN_LENGTH <= len(password) <= accounts.MAX_LENGTH:
        raise Invalid(f"password: {accounts.MIN_LENGTH} to {accounts.MAX_LENGTH} characters")
    invite = find(session, token, now)
    if invite is None or invite.user_name not in config.users:
        raise Conflict("this invite link is unknown, used or expired: ask for a new one")
    spent = session.execute(
        update(ConsoleInvite)
        .where(ConsoleInvite.id == invite.id, ConsoleInvite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this invite link is unknown, used or expired: ask for a new one")
    accounts.set_password(session, config, invite.user_name, password, now)
    return invite.user_name
