"""Invite links: a configured user without a password chooses one once, within its time;
the link is spent by compare-and-set, then refused; each step is audited."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import sign_in
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.clock import VirtualClock
from tocsin.console import accounts, audit, invites
from tocsin.console.models import ConsoleAccount
from tocsin.db import session_scope
from tocsin.errors import Conflict, NotFound
from tocsin.web.deps import Settings

NEW = "a fresh long password"


def invite(factory: sessionmaker[Session], settings: Settings, clock: VirtualClock) -> str:
    with session_scope(factory) as s:
        s.delete(s.get(ConsoleAccount, "cy"))
        s.flush()
        return invites.create(s, settings.config, "cy", "os:root", clock.now())


def form(client: TestClient, token: str) -> str:
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_an_invited_user_chooses_a_password_once_and_signs_in(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = invite(factory, settings, clock)
    nonce = form(client, token)
    assert "Welcome, <strong>cy</strong>" in client.get(f"/invite/{token}").text
    nonce = form(client, token)
    body = {"csrf": nonce, "password": NEW, "again": NEW}
    answer = client.post(f"/invite/{token}", data=body, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert sign_in(client, "cy", NEW) == 303
    again = client.post(f"/invite/{token}", data={**body, "password": "x" * 12})
    assert again.status_code in (403, 404)  # the nonce cookie is gone; the link is spent
    assert client.get(f"/invite/{token}").status_code == 404
    with session_scope(factory) as s:
        assert accounts.check_password(s, settings.config, "cy", NEW)
        (row,) = audit.list_(s, action="password.set")
        assert (row.actor, row.interface, row.detail) == ("cy", "console", {"through": "invite"})


def test_bad_passwords_and_stale_forms_change_nothing(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    token = invite(factory, settings, clock)
    nonce = form(client, token)
    for body, message in [
        ({"password": NEW, "again": NEW + "!"}, "again: the two passwords differ"),
        ({"password": "short", "again": "short"}, "password: 10 to"),
    ]:
        answer = client.post(f"/invite/{token}", data={"csrf": nonce, **body})
        assert answer.status_code == 400
        assert message in answer.text
        nonce = form(client, token)  # each answer carries a fresh form token
    answer = client.post(f"/invite/{token}", data={"password": NEW, "again": NEW})
    assert answer.status_code == 403
    assert client.get("/invite/not-a-real-token-at-all-no").status_code == 404
    clock.advance(timedelta(days=8))
    assert client.get(f"/invite/{token}").status_code == 404
    with session_scope(factory) as s:
        assert not accounts.has_password(s, "cy")
        assert audit.list_(s, action="password.set") == []


def test_an_invite_is_for_a_configured_user_without_a_password(
    settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with session_scope(factory) as s:
        with pytest.raises(NotFound):
            invites.create(s, settings.config, "zed", "os:root", clock.now())
        with pytest.raises(Conflict, match="has a console password already"):
            invites.create(s, settings.config, "ana", "os:root", clock.now())


def test_tocsin_user_invite_prints_the_link_once(tmp_path: Path, store_url: str) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(
        f'store: {{url: "{store_url}"}}\npublic_url: https://tocsin.example\n'
        "users:\n  di: {role: responder}\n"
    )
    runner = CliRunner()
    made = runner.invoke(app, ["user", "invite", "di", "--for", "2d", "-c", str(path)])
    assert made.exit_code == 0, made.output
    assert re.search(r"https://tocsin.example/invite/[\w-]{40,}", made.output)
    bad = runner.invoke(app, ["user", "invite", "zed", "-c", str(path)])
    assert bad.exit_code == 1
    assert "no user named 'zed'" in bad.output
    listed = runner.invoke(app, ["audit", "list", "--json", "-c", str(path)])
    assert '"invite.create"' in listed.output
