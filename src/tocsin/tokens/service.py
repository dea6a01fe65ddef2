"""API tokens: created once and shown once, stored as SHA-256, revocable, with scopes.

A token is 32 random bytes (`tsn_` + URL-safe base64). Slow password hashes (argon2, bcrypt)
exist to stretch low-entropy secrets; a 256-bit random token cannot be guessed, so SHA-256 is
the standard choice and keeps each request's check to one indexed lookup. The stored digest
is compared with `hmac.compare_digest` all the same.

Scopes: `ingest` (send events), `read` (list and show), `write` (acknowledge, resolve, run
checks; implies read), `admin` (everything). An integration's key — PagerDuty's
`routing_key`, the key in an Alertmanager webhook URL, a Prometheus Bearer token — is a token
with the `ingest` scope, and its name says which integration sent an alert.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.tokens.models import ApiToken, ServerSecret

SCOPES = ("ingest", "read", "write", "admin")
PREFIX = "tsn_"
_IMPLIES = {"admin": set(SCOPES), "write": {"write", "read"}}


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a token's name and what it may do."""

    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return any(scope in _IMPLIES.get(have, {have}) for have in self.scopes)


def parse_scopes(text: str | Iterable[str]) -> frozenset[str]:
    """`ingest,read` → the scopes; Invalid naming any unknown one."""
    words = text.split(",") if isinstance(text, str) else list(text)
    scopes = frozenset(w.strip() for w in words if w.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(
            f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}"
        )
    return scopes


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session, name: str, scopes: frozenset[str], now: datetime
) -> tuple[ApiToken, str]:
    """A new token; the returned text is the only time it exists outside its digest."""
    if not name or len(name) > 100:
        raise Invalid("a token's name is 1 to 100 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=digest(token),
        prefix=token[: len(PREFIX) + 6],
        scopes=",".join(sorted(scopes)),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"a token named {name!r} already exists") from None
    return row, token


def list_(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.name)).all()


def revoke(session: Session, name: str, now: datetime) -> None:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"no active token named {name!r}")


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal a presented token stands for, or None (unknown or revoked)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    wanted = digest(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, wanted):
        return None
    return Principal(row.name, frozenset(row.scopes.split(",")))


def from_header(authorization: str | None) -> str | None:
    """The token in `Authorization: Bearer …`, or in Basic auth's password (or user) for
    clients such as amtool that only take a URL with credentials."""
    if not authorization:
        return None
    kind, _, value = authorization.partition(" ")
    if kind.lower() == "bearer":
        return value.strip() or None
    if kind.lower() == "basic":
        try:
            user, _, password = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or user or None
    return None


def server_secret(session: Session, name: str, now: datetime) -> bytes:
    """The server's own secret called `name`, made on first use and kept in the store so that
    every instance sharing it signs and verifies alike (race-free: the first insert wins)."""
    row = session.get(ServerSecret, name)
    if row is None:
        session.flush()  # pending rows (autoflush held off) stay out of the savepoint below
        try:
            with session.begin_nested():
                session.add(ServerSecret(name=name, value=secrets.token_hex(32), created_at=now))
                session.flush()
        except IntegrityError:
            pass  # another instance made it first; use theirs
        row = session.get(ServerSecret, name, populate_existing=True)
        assert row is not None
    return row.value.encode()
