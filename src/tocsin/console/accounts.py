"""Console passwords: set from the CLI, checked at sign-in, hashed with argon2id.

A user is someone in the configuration's `users`; their role is there too
(`users.NAME.role`), so taking a user out of the file or changing their role takes effect at
their next request. The store keeps only the password hash."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from tocsin.config.console import Role
from tocsin.config.model import TocsinConfig
from tocsin.console.models import ConsoleAccount
from tocsin.errors import Invalid, NotFound

MIN_LENGTH = 10
MAX_LENGTH = 1000  # argon2 takes any length; this bounds the work one sign-in can ask for
SCOPES: dict[Role, str] = {"viewer": "read", "responder": "write", "admin": "admin"}
RANK: dict[Role, int] = {"viewer": 0, "responder": 1, "admin": 2}

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# Checked against when the user has no password, so an unknown name costs as long as a
# wrong password (no telling which users exist by the time an answer takes).
_DUMMY = _hasher.hash("a password nobody has")


def role_of(config: TocsinConfig, user: str) -> Role | None:
    """The user's role, or None when the configuration has no such user."""
    found = config.users.get(user)
    return None if found is None else found.role


def allows(have: Role, need: Role) -> bool:
    return RANK[have] >= RANK[need]


def set_password(
    session: Session, config: TocsinConfig, user: str, password: str, now: datetime
) -> None:
    """Give `user` (a configured user) this password. NotFound or Invalid, changing nothing."""
    if user not in config.users:
        raise NotFound(f"no user named {user!r} in the configuration's users")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise Invalid(f"a password is {MIN_LENGTH} to {MAX_LENGTH} characters")
    hashed = _hasher.hash(password)
    row = session.get(ConsoleAccount, user)
    if row is None:
        session.add(ConsoleAccount(user_name=user, password_hash=hashed, changed_at=now))
    else:
        row.password_hash = hashed
        row.changed_at = now
    session.flush()


def check_password(session: Session, config: TocsinConfig, user: str, password: str) -> bool:
    """Whether `user` is configured, has a password, and this is it."""
    row = session.get(ConsoleAccount, user) if len(user) <= 100 else None
    known = row is not None and user in config.users and len(password) <= MAX_LENGTH
    try:
        return _hasher.verify(row.password_hash if known and row else _DUMMY, password) and known
    except (VerificationError, InvalidHashError):
        return False


def has_password(session: Session, user: str) -> bool:
    return session.get(ConsoleAccount, user) is not None
