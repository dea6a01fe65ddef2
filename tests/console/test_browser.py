"""The console in a real browser (Debian's chromium through Playwright), served on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.console import PASSWORD, console_config, give_passwords
from tests.support.peers import serving

from tocsin.clock import SystemClock
from tocsin.web.deps import Settings


@pytest.fixture
def base(factory: sessionmaker[Session]) -> Iterator[str]:
    config = console_config()
    clock = SystemClock()
    give_passwords(factory, clock, config)
    with serving(Settings(config, factory, clock)) as url:
        yield url


def sign_in(
    page: Page, base: str, user: str, password: str = PASSWORD, path: str = "/audit"
) -> None:
    page.goto(f"{base}{path}")
    expect(page).to_have_url(f"{base}/login?next={path}")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_and_sign_out(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.screenshot(path=shot("console-login"))
    sign_in(page, base, "ana", "not the password")
    expect(page.get_by_role("alert")).to_have_text("unknown user or wrong password")
    sign_in(page, base, "ana")
    expect(page.get_by_text("ana · admin")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/login")
    page.goto(f"{base}/audit")
    expect(page).to_have_url(f"{base}/login?next=/audit")


def test_a_form_without_its_csrf_token_is_refused(page: Page, base: str) -> None:
    sign_in(page, base, "ana")
    expect(page.get_by_text("ana · admin")).to_be_visible()
    page.locator("form.who input[name=csrf]").evaluate("field => field.remove()")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_contain_text("security token is missing or stale")
    page.screenshot(path=shot("console-csrf-refused"))
    page.goto(f"{base}/audit")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()  # still signed in
