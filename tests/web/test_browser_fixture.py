"""The browser fixture drives the system chromium against a page served on loopback."""

from __future__ import annotations

from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.peers import serving
from tests.support.web import SHIPPED, api_config

from tocsin.clock import SystemClock
from tocsin.web.deps import Settings


def test_chromium_renders_a_runbook_page(page: Page, factory: sessionmaker[Session]) -> None:
    config = api_config(f"runbooks: {{path: '{SHIPPED}'}}\n")
    with serving(Settings(config, factory, SystemClock())) as base:
        response = page.goto(f"{base}/runbooks/provider-failure")
        assert response is not None
        assert response.status == 200
        assert page.title() == "Provider failure · Runbook · Tocsin"
        assert page.get_by_role("heading", name="Resolution Steps").is_visible()
        page.screenshot(path=shot("runbook-provider-failure"), full_page=True)
