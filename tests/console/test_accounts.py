"""Passwords, sessions and the audit log, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.console import accounts, audit, sessions
from tocsin.console.models import ConsoleAccount
from tocsin.db import session_scope
from tocsin.errors import Invalid, NotFound

USERS = """
users:
  ana: {role: admin}
  bo: {role: responder}
  cy: {}
"""


def config() -> TocsinConfig:
    parsed, _ = parse(USERS, "test.yaml", env={})
    return parsed


def test_a_password_is_kept_as_an_argon2id_hash_and_checked(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        accounts.set_password(s, config(), "ana", "correct horse battery", clock.now())
    with session_scope(factory) as s:
        row = s.scalars(select(ConsoleAccount)).one()
        assert row.password_hash.startswith("$argon2id$")
        assert "correct horse" not in row.password_hash
        assert accounts.check_password(s, config(), "ana", "correct horse battery")
        assert not accounts.check_password(s, config(), "ana", "correct horse batterz")
        assert not accounts.check_password(s, config(), "bo", "correct horse battery")
        assert not accounts.check_password(s, config(), "nobody", "correct horse battery")


def test_a_password_for_an_unknown_user_or_too_short_is_refused(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        with pytest.raises(NotFound, match="no user named 'zed'"):
            accounts.set_password(s, config(), "zed", "long enough password", clock.now())
        with pytest.raises(Invalid, match="10 to 1000 characters"):
            accounts.set_password(s, config(), "ana", "short", clock.now())
        assert s.scalars(select(ConsoleAccount)).all() == []


def test_roles_come_from_the_configuration_and_viewer_is_the_default() -> None:
    assert accounts.role_of(config(), "ana") == "admin"
    assert accounts.role_of(config(), "cy") == "viewer"
    assert accounts.role_of(config(), "zed") is None
    assert accounts.allows("admin", "responder")
    assert not accounts.allows("viewer", "responder")
    assert accounts.SCOPES["responder"] == "write"


def test_a_session_cookie_finds_its_session_until_revoked_or_expired(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        row, cookie = sessions.open_(s, "ana", "10.0.0.1", timedelta(hours=1), clock.now())
        other, second = sessions.open_(s, "ana", None, timedelta(hours=1), clock.now())
        ids = row.id, other.id
    with session_scope(factory) as s:
        found = sessions.find(s, cookie, clock.now())
        assert found is not None
        assert found.id == ids[0]
        token, _, signature = cookie.rpartition(".")
        assert sessions.find(s, f"{token}.{'0' * len(signature)}", clock.now()) is None
        assert sessions.find(s, token, clock.now()) is None
        assert sessions.find(s, None, clock.now()) is None
        assert sessions.find(s, cookie, clock.now() + timedelta(hours=1)) is None
    with session_scope(factory) as s:
        assert sessions.revoke(s, ids[0], clock.now())
        assert not sessions.revoke(s, ids[0], clock.now())
    with session_scope(factory) as s:
        assert sessions.find(s, cookie, clock.now()) is None
        assert sessions.find(s, second, clock.now()) is not None
        assert sessions.revoke_user(s, "ana", clock.now()) == 1
    with session_scope(factory) as s:
        assert sessions.find(s, second, clock.now()) is None


def test_failed_sign_ins_are_counted_by_user_and_by_address(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        for user, address in [("ana", "10.0.0.1"), ("ana", "10.0.0.2"), ("bo", "10.0.0.1")]:
            audit.record(
                s,
                actor=user,
                action=audit.LOGIN_FAILED,
                interface="console",
                now=clock.now(),
                address=address,
            )
        audit.record(s, actor="ana", action="login", interface="console", now=clock.now())
    with session_scope(factory) as s:
        since = clock.now() - timedelta(minutes=1)
        assert audit.failed_logins(s, "ana", "10.0.0.1", since) == (2, 2)
        assert audit.failed_logins(s, "cy", None, since) == (0, 0)
        assert audit.failed_logins(s, "ana", "10.0.0.1", clock.now() + timedelta(seconds=1)) == (
            0,
            0,
        )
        listed = audit.list_(s, limit=2)
        assert [r.action for r in listed] == ["login", audit.LOGIN_FAILED]
        assert [r.actor for r in audit.list_(s, before_id=listed[0].id, actor="bo")] == ["bo"]
