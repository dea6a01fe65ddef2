"""Chromium (tests/support/browser.py) reads the page as customers do: a public incident
with its next-update time, an update arriving on reload, the history, and the subscribe form
working without script; screenshots saved for a look."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.peers import serving
from tests.support.status import declare, post, status_config, window

from tocsin.clock import SystemClock
from tocsin.web.deps import Settings

SUBSCRIBERS = "  subscribers: {secret: a-subscribers-secret-0123456789}\n"


def test_chromium_shows_an_incident_and_its_updates_arriving(
    page: Page, factory: sessionmaker[Session]
) -> None:
    clock = SystemClock()
    now = clock.now()
    old = declare(
        factory, now, title="Search was slow", services=("search",), ago=timedelta(days=2)
    )
    post(factory, now - timedelta(days=2) + timedelta(hours=1), old, "Indexes rebuilt.", "resolved")
    incident = declare(factory, now, ago=timedelta(minutes=20))
    post(factory, now - timedelta(minutes=15), incident, "Card payments fail for some customers.")
    window(factory, now, ["web"], timedelta(days=1), timedelta(hours=2), "CDN migration")
    with serving(Settings(status_config(SUBSCRIBERS), factory, clock)) as base:
        assert (response := page.goto(f"{base}/status")) is not None
        assert response.status == 200
        assert page.get_by_role("heading", name="Major System Outage").is_visible()
        assert page.get_by_role("heading", name="Current incidents").is_visible()
        current = page.locator(f"#incident-{incident}")
        assert current.get_by_role("heading", name="Checkout is failing").is_visible()
        assert "Next update by" in current.inner_text()
        assert page.locator("#c-checkout .status").inner_text() == "Major outage"
        assert page.get_by_role("heading", name="Past incidents (90 days)").is_visible()
        assert "Indexes rebuilt." in page.locator(f"#incident-{old}").inner_text()
        assert "CDN migration" in page.locator(".maintenance").inner_text()
        page.screenshot(path=shot("status-incident"), full_page=True)
        # An update posted now is on the next load.
        post(factory, clock.now(), incident, "A fix is rolling out.", "identified")
        page.reload()
        first = page.locator(f"#incident-{incident} .updates li").first
        assert first.inner_text().startswith("Identified — A fix is rolling out.")
        # The footer links to the subscribe form, which works without script.
        page.get_by_role("link", name="Subscribe to updates").click()
        page.get_by_label("Send updates by").select_option("webhook")
        page.get_by_label("Email address or webhook URL").fill("https://hooks.example/in")
        page.get_by_label("Checkout").check()
        page.screenshot(path=shot("status-subscribe"), full_page=True)
        page.get_by_role("button", name="Subscribe").click()
        assert page.get_by_role("heading", name="Thank you").is_visible()
        assert "Its signing key (shown once)" in page.content()
