"""The runbook page in a real browser: an operator signs in and sees the steps' last outputs
for an incident; a screenshot is kept (tests/screenshots/runbook-outputs.png)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.console import CONSOLE, PASSWORD, give_passwords
from tests.support.peers import serving
from tests.support.runbooks import NOW, SHELL_ON, declare, runbook_yaml, shop_pg, tools_folder

from tocsin import actions
from tocsin.actions.runbooks import Selection
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.runbooks.service import catalog
from tocsin.web.deps import Settings

__all__ = ["shop_pg"]


def test_a_signed_in_operator_sees_the_last_outputs_in_the_browser(
    page: Page, factory: sessionmaker[Session], shop_pg: str, tmp_path: Path
) -> None:
    text = runbook_yaml(shop_pg, SHELL_ON, tools_folder(tmp_path)).replace(
        "users:\n  ana: {email: ana@example.com}\n  bo: {email: bo@example.com}\n", ""
    )
    config, _ = parse(CONSOLE + text, "test.yaml", env={})
    clock = VirtualClock(NOW)
    incident = declare(factory, config, clock, commander="bo")
    book = catalog(config.runbooks.path).get("tools")
    for step, given in ((1, {}), (2, {"name": "Ana"}), (3, {})):
        with session_scope(factory) as s:
            actions.runbooks.request(
                s,
                config,
                book,
                Selection(step=step),
                incident_id=incident,
                given=given,
                by="ana",
                now=clock.now(),
                environ={},
            )
    while actions.runbooks.run_due(factory, config, clock, "w1"):
        pass
    give_passwords(factory, clock, config)
    path = f"/runbooks/tools?incident={incident}"
    with serving(Settings(config, factory, clock)) as base:
        page.goto(f"{base}{path}")
        expect(page.get_by_text("to see them")).to_be_visible()
        page.get_by_role("link", name="sign in").click()
        page.get_by_label("User").fill("cy")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base}{path}")
        expect(page.get_by_role("heading", name=f"Last outputs for {incident}")).to_be_visible()
        expect(page.get_by_text("hello Ana")).to_be_visible()
        expect(page.get_by_text("timed out after 1s")).to_be_visible()
        page.screenshot(path=shot("runbook-outputs"), full_page=True)
