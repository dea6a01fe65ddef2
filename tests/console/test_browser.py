"""The console in a real browser (Debian's chromium through Playwright), served on loopback."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.console import (
    PASSWORD,
    console_config,
    evaluations,
    give_passwords,
    open_alert,
)
from tests.support.peers import serving

from tocsin.clock import SystemClock
from tocsin.db import session_scope
from tocsin.heartbeats import service as heartbeats
from tocsin.web.deps import Settings

CLOCK = SystemClock()
CONFIG = console_config()


@pytest.fixture
def base(factory: sessionmaker[Session]) -> Iterator[str]:
    give_passwords(factory, CLOCK, CONFIG)
    with serving(Settings(CONFIG, factory, CLOCK)) as url:
        yield url


def sign_in(
    page: Page, base: str, user: str, password: str = PASSWORD, path: str = "/audit"
) -> None:
    page.goto(f"{base}{path}")
    expect(page).to_have_url(f"{base}/login" + ("" if path == "/alerts" else f"?next={path}"))
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


def test_an_alert_appears_and_a_responder_acknowledges_it(
    page: Page, base: str, factory: sessionmaker[Session]
) -> None:
    sign_in(page, base, "bo", path="/alerts")
    expect(page.get_by_text("No alerts match.")).to_be_visible()
    open_alert(factory, CLOCK, CONFIG, "disk", severity="CRITICAL", title="Disk full on db1")
    page.reload()
    row = page.get_by_role("row").filter(has_text="Disk full on db1")
    expect(row).to_contain_text("firing")
    page.screenshot(path=shot("console-alerts"), full_page=True)
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.get_by_role("status")).to_have_text("1 alert(s) changed")
    expect(page.get_by_role("row").filter(has_text="Disk full on db1")).to_contain_text(
        "acknowledged by bo"
    )
    page.get_by_role("link", name="Disk full on db1").click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    page.screenshot(path=shot("console-alert-detail"), full_page=True)


def test_a_viewer_sees_alerts_but_cannot_acknowledge(
    page: Page, base: str, factory: sessionmaker[Session]
) -> None:
    alert_id = open_alert(factory, CLOCK, CONFIG, "cpu", title="CPU hot")
    sign_in(page, base, "cy", path="/alerts")
    expect(page.get_by_role("link", name="CPU hot")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge selected")).to_have_count(0)
    page.goto(f"{base}/alerts/{alert_id}")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_a_silence_is_created_from_the_live_preview(
    page: Page, base: str, factory: sessionmaker[Session]
) -> None:
    open_alert(factory, CLOCK, CONFIG, "q", title="Queue backlog", service="queue")
    open_alert(factory, CLOCK, CONFIG, "w", title="Web errors", service="web")
    sign_in(page, base, "bo", path="/silences")
    page.get_by_label("Matchers").fill('service="queue"')
    preview = page.locator("#preview")
    expect(preview).to_contain_text("1 open alert(s) would be muted")
    expect(preview).to_contain_text("Queue backlog")
    expect(preview).not_to_contain_text("Web errors")
    page.get_by_label("Why").fill("draining the queue")
    page.screenshot(path=shot("console-silence-preview"), full_page=True)
    page.get_by_role("button", name="Create silence").click()
    row = page.get_by_role("row").filter(has_text="draining the queue")
    expect(row).to_contain_text('service="queue"')
    expect(row).to_contain_text("active")


def test_an_incident_is_declared_and_updated(page: Page, base: str) -> None:
    sign_in(page, base, "bo", path="/incidents")
    expect(page.get_by_text("No incidents.")).to_be_visible()
    page.get_by_label("Title").fill("Checkout fails for card payments")
    page.get_by_label("Severity").select_option("SEV-1")
    page.get_by_label("Services (comma-separated)").fill("checkout")
    page.get_by_role("button", name="Declare").click()
    expect(page.get_by_role("heading", name="Post an update")).to_be_visible()
    page.get_by_label("Message").fill("The card provider times out; failing over to the backup")
    page.get_by_label("New status").select_option("identified")
    page.get_by_role("button", name="Post update").click()
    updates = page.get_by_role("row").filter(has_text="failing over to the backup")
    expect(updates.first).to_contain_text("identified")
    page.screenshot(path=shot("console-incident"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/incidents")
    expect(page.get_by_role("link", name="INC-")).to_be_visible()
    page.screenshot(path=shot("console-incidents-phone"), full_page=True)


def test_a_responder_takes_a_shift_on_the_on_call_page(
    page: Page, factory: sessionmaker[Session]
) -> None:
    config = console_config(
        "schedules:\n  payments:\n    layers:\n"
        '      - {name: main, start: "2026-11-02T09:00", rotation: daily,\n'
        "         participants: [ana, cy]}\n"
    )
    give_passwords(factory, CLOCK, config)
    with serving(Settings(config, factory, CLOCK)) as base:
        sign_in(page, base, "bo", path="/oncall")
        expect(page.get_by_role("heading", name="payments")).to_be_visible()
        page.get_by_role("button", name="Take this shift").first.click()
        expect(page.get_by_role("row").filter(has_text="override #").first).to_contain_text("bo")
        page.screenshot(path=shot("console-oncall"), full_page=True)


def test_a_maintenance_window_is_created_from_the_live_preview(
    page: Page, base: str, factory: sessionmaker[Session]
) -> None:
    open_alert(factory, CLOCK, CONFIG, "dbm", title="Replica lag", service="db")
    sign_in(page, base, "bo", path="/maintenance")
    page.get_by_label("Title").fill("Database upgrade")
    page.get_by_label("Services").fill("db")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("1 open alert(s) would be muted")
    expect(preview).to_contain_text("Replica lag")
    page.screenshot(path=shot("console-maintenance"), full_page=True)
    page.get_by_role("button", name="Create window").click()
    row = page.get_by_role("row").filter(has_text="Database upgrade")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="End now").click()
    expect(page.get_by_text("No maintenance windows.")).to_be_visible()


def test_a_checks_chart_and_the_heartbeats(page: Page, factory: sessionmaker[Session]) -> None:
    config = console_config(
        "sources:\n  shop: {type: sql, url: 'sqlite:///:memory:'}\n"
        "checks:\n  - name: error_rate\n    source: shop\n    schedule: {every: 1m}\n"
        "    query: SELECT value FROM metric\n    conditions:\n"
        "      - {when: '> 0.05', severity: CRITICAL}\n"
        "heartbeats:\n  - {name: nightly-backup, every: 1d, grace: 1h}\n"
    )
    give_passwords(factory, CLOCK, config)
    now = CLOCK.now()
    with session_scope(factory) as s:
        heartbeats.sync(s, config.heartbeats, now)
    values = [round(0.03 + 0.03 * math.sin(i / 6), 4) for i in range(60)]
    evaluations(factory, "error_rate", values, now)
    with serving(Settings(config, factory, CLOCK)) as base:
        sign_in(page, base, "cy", path="/checks")
        page.get_by_role("link", name="error_rate").click()
        expect(page.get_by_role("img", name="value of error_rate")).to_be_visible()
        page.screenshot(path=shot("console-check"), full_page=True)
        page.goto(f"{base}/heartbeats")
        expect(page.get_by_label("ping URL of nightly-backup")).to_have_value(
            re.compile(r"/ping/[0-9a-f-]{36}$")
        )
