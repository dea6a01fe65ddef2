"""`/status`: components with their status from open alerts and running maintenance, the
banner, the team's name and logo, served without a token, small and without script."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.peers import serving
from tests.support.status import fire, resolve, status_config, window

from tocsin.clock import SystemClock, VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


def client(factory: sessionmaker[Session], clock: VirtualClock, extra: str = "") -> TestClient:
    return TestClient(create_app(Settings(status_config(extra), factory, clock)))


def statuses(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('class="status status-')[1:]]


def test_an_open_alert_sets_its_components_status_and_the_banner(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with client(factory, clock) as http:
        page = http.get("/status")
        assert page.status_code == 200
        assert statuses(page.text) == ["operational"] * 4
        assert "All Systems Operational" in page.text

        fire(factory, clock.now(), "HIGH", check="checkout-errors")
        fire(factory, clock.now(), "WARNING", service="payments")
        alert = fire(factory, clock.now(), "CRITICAL", heartbeat="backup")
        page = http.get("/status")
        assert statuses(page.text) == [
            "operational",
            "partial_outage",
            "major_outage",
            "operational",
        ]
        assert "Major System Outage" in page.text
        assert "internal detail" not in page.text  # an alert's message stays inside

        resolve(factory, alert, clock.now())
        page = http.get("/status")
        assert statuses(page.text)[2] == "operational"
        assert "Partial System Outage" in page.text


def test_a_running_window_puts_its_components_under_maintenance(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    window(factory, clock.now(), ["search"], timedelta(hours=2), timedelta(hours=1), "Reindex")
    window(factory, clock.now(), ["unlisted"], timedelta(0), timedelta(hours=1), "Hidden")
    with client(factory, clock) as http:
        page = http.get("/status").text
        assert "Reindex" in page
        assert "Hidden" not in page
        assert statuses(page)[3] == "operational"
        clock.advance(timedelta(hours=2, minutes=1))
        page = http.get("/status").text
        assert statuses(page)[3] == "under_maintenance"
        assert "in progress" in page
        assert "Service Under Maintenance" in page


def test_the_page_needs_no_token_has_no_script_and_is_small(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    with client(factory, clock) as http:
        page = http.get("/status")
        assert page.headers["cache-control"] == "no-store"
        assert "script-src" not in page.headers["content-security-policy"]
        assert "<script" not in page.text
        assert len(page.content) < 100_000
        css = http.get("/status/status.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")


def test_the_team_logo_is_served_beside_the_page(
    factory: sessionmaker[Session], clock: VirtualClock, tmp_path: Path
) -> None:
    logo = tmp_path / "acme.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>')
    config = status_config().model_copy(deep=True)
    status = config.status.model_copy(update={"logo": logo})
    with TestClient(
        create_app(Settings(config.model_copy(update={"status": status}), factory, clock))
    ) as http:
        page = http.get("/status").text
        assert '<img class="logo" src="/status/logo.svg" alt="Acme logo"' in page
        served = http.get("/status/logo.svg")
        assert served.headers["content-type"] == "image/svg+xml"
        assert served.content == logo.read_bytes()
        assert http.get("/status/logo.png").status_code == 404


def test_chromium_shows_the_components_and_their_status(
    page: Page, factory: sessionmaker[Session]
) -> None:
    clock = SystemClock()
    midnight = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = midnight - timedelta(days=3, hours=-1)  # 01:00 three days ago, for 2 h
    outage = fire(factory, earlier, "CRITICAL", service="payments", key="earlier")
    resolve(factory, outage, earlier + timedelta(hours=2))
    fire(factory, clock.now(), "HIGH", service="payments")
    window(factory, clock.now(), ["search"], timedelta(0), timedelta(hours=1), "Reindex")
    with serving(Settings(status_config(), factory, clock)) as base:
        response = page.goto(f"{base}/status")
        assert response is not None
        assert response.status == 200
        assert page.title() == "Acme status"
        assert page.get_by_role("heading", name="Partial System Outage").is_visible()
        assert page.get_by_role("heading", name="Storefront").is_visible()
        checkout = page.locator("#c-checkout .status")
        assert checkout.inner_text() == "Partial outage"
        assert page.locator("#c-search .status").inner_text() == "Under maintenance"
        # The stylesheet loaded under the page's policy: the banner has its colour.
        banner = page.locator(".banner")
        assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(168, 67, 0)"
        bars = page.locator("#c-checkout .bar")
        assert bars.count() == 90
        assert bars.nth(86).get_attribute("class") == "bar bar-down"  # 2 h down
        assert "91.66%" in bars.nth(86).inner_text()  # 22 h of 24, rounded down
        page.screenshot(path=shot("status-page"), full_page=True)
