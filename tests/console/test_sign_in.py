"""Signing in and out, the session cookie, CSRF, roles and the sign-in limit."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import PASSWORD, csrf_in, sign_in

from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope


def actions_in(factory: sessionmaker[Session]) -> list[tuple[str, str, str | None]]:
    with session_scope(factory) as s:
        return [(r.actor, r.action, r.interface) for r in reversed(audit.list_(s))]


def test_signed_out_the_console_sends_you_to_sign_in(client: TestClient) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    answer = client.get("/audit", follow_redirects=False)
    assert answer.headers["location"] == "/login?next=/audit"
    page = client.get("/login")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_signing_in_sets_an_httponly_lax_session_cookie_and_is_audited(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    form = client.get("/login")
    body = {"csrf": csrf_in(form.text), "user": "ana", "password": PASSWORD, "next": "/audit"}
    answer = client.post("/login", data=body, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/audit"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "tocsin_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the TLS test
    assert PASSWORD not in cookie
    page = client.get("/audit")
    assert page.status_code == 200
    assert "ana · admin" in page.text
    assert actions_in(factory) == [("ana", "login", "console")]


def test_a_wrong_password_is_refused_and_recorded(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    assert sign_in(client, "ana", "not the password") == 401
    assert sign_in(client, "nobody", PASSWORD) == 401
    assert client.get("/audit", follow_redirects=False).status_code == 303
    assert actions_in(factory) == [
        ("ana", "login.failed", "console"),
        ("nobody", "login.failed", "console"),
    ]


def test_a_missing_field_is_named(client: TestClient) -> None:
    form = client.get("/login")
    answer = client.post("/login", data={"csrf": csrf_in(form.text), "user": "ana"})
    assert answer.status_code == 400
    assert "password: required" in answer.text


def test_sign_in_stops_checking_passwords_after_too_many_failures(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    for _ in range(5):
        assert sign_in(client, "bo", "guess guess guess") == 401
    assert sign_in(client, "bo", PASSWORD) == 429
    clock.advance(timedelta(minutes=16))
    assert sign_in(client, "bo", PASSWORD) == 303


def test_signing_out_ends_the_session_at_once(client: TestClient) -> None:
    assert sign_in(client, "ana") == 303
    cookie = client.cookies.get("tocsin_session")
    page = client.get("/audit")
    answer = client.post("/logout", data={"csrf": csrf_in(page.text)}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    client.cookies.set("tocsin_session", cookie or "")
    assert client.get("/audit", follow_redirects=False).status_code == 303


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    assert sign_in(client, "ana") == 303
    answer = client.post("/logout", data={}, follow_redirects=False)
    assert answer.status_code == 403
    assert "security token" in answer.text
    answer = client.post("/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/audit").status_code == 200  # still signed in


def test_the_sign_in_form_needs_the_token_its_page_set(client: TestClient) -> None:
    body = {"csrf": "made up", "user": "ana", "password": PASSWORD}
    assert client.post("/login", data=body).status_code == 403


def test_a_viewer_cannot_open_an_admin_page(client: TestClient) -> None:
    assert sign_in(client, "cy") == 303
    answer = client.get("/audit")
    assert answer.status_code == 403
    assert "cy is a viewer; this needs the admin role" in answer.text


def test_sign_in_never_sends_you_to_another_site(client: TestClient) -> None:
    form = client.get("/login")
    body = {"csrf": csrf_in(form.text), "user": "ana", "password": PASSWORD, "next": "//evil"}
    answer = client.post("/login", data=body, follow_redirects=False)
    assert answer.headers["location"] == "/alerts"


def test_cookies_are_secure_when_the_console_is_served_over_tls(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    from tests.support.console import console_config, give_passwords

    from tocsin.web.app import create_app
    from tocsin.web.deps import Settings

    config = console_config().model_copy(update={"public_url": "https://tocsin.example"})
    give_passwords(factory, clock, config)
    with TestClient(create_app(Settings(config, factory, clock)), base_url="https://t") as tls:
        form = tls.get("/login")
        body = {"csrf": csrf_in(form.text), "user": "ana", "password": PASSWORD}
        answer = tls.post("/login", data=body, follow_redirects=False)
        assert answer.status_code == 303
        cookie = next(c for c in answer.headers.get_list("set-cookie") if "tocsin_session=" in c)
        assert "Secure" in cookie
