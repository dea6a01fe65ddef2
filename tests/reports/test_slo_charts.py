"""SLOs in reports: a section with each SLO's budget and status, its burn-down drawn as PNG
into the mail (an inline image) and linked from chat (webhooks take no files), and the
console's reports pages showing the run with its charts as SVG."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.console import CONSOLE, PASSWORD, give_passwords
from tests.support.peers import serving
from tests.support.slos import SLO_CONFIG, outage
from tests.support.smtp import MakeServer

from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline
from tocsin.reports.models import ReportRun
from tocsin.web.deps import Settings
from tocsin.worker.loop import Worker

NINE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REPORT = """
routes: {notify: [console]}
reports:
  monthly:
    title: Monthly review
    schedule: {cron: "0 9 * * *"}
    channels: [mail, chat]
    sections:
      - {type: slos, slos: [checkout-availability, checkout-month]}
"""


def config_with(smtp_port: int) -> TocsinConfig:
    channels = f"""channels:
  console: {{type: console}}
  chat: {{type: discord, url: "http://127.0.0.1:9/webhook"}}
  mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, security: none,
          from_address: tocsin@example.com, to: [ops@example.com]}}"""
    text = CONSOLE.replace("channels:\n  console: {type: console}", "") + SLO_CONFIG.replace(
        "channels: {console: {type: console}}", channels
    )
    config, _ = parse(text + REPORT, "test.yaml", env={})
    return config


def run_report(factory: sessionmaker[Session], clock: VirtualClock, config: TocsinConfig) -> int:
    """40 minutes of outage two days before (of 43.2 allowed), then the 09:00 run."""
    outage(
        factory,
        Pipeline(config),
        NINE - timedelta(days=2),
        NINE - timedelta(days=2) + 40 * 60 * timedelta(seconds=1),
    )
    clock.set(NINE - timedelta(minutes=1))
    worker = Worker(config, factory, clock, worker_id="w1", threads=False)
    worker.start()
    clock.advance(timedelta(minutes=1))
    assert worker.run_due_reports() == 1
    with session_scope(factory) as s:
        return s.scalars(select(ReportRun.id).where(ReportRun.state == "done")).one()


def test_the_mail_carries_the_burn_down_and_chat_links_it(
    factory: sessionmaker[Session], clock: VirtualClock, make_server: MakeServer
) -> None:
    server = make_server()
    config = config_with(server.port)
    run_id = run_report(factory, clock, config)
    with session_scope(factory) as s:
        run = s.get(ReportRun, run_id)
        assert run is not None
        section = run.figures["sections"][0] if run.figures else {}
        chat = s.scalars(select(Notification).where(Notification.channel == "chat")).one()
        chat_text = chat.payload["message"]
    assert section["level"] == "WARNING"  # 3.2 of 43.2 minutes left: Warning
    (availability, month) = section["figures"]["slos"]
    assert availability["status"] == "Warning"
    assert len(availability["burn_down"]) == 31
    assert month["window"] == "month"
    assert "checkout-availability (shop): 99.9 % over 30d" in chat_text
    assert f"[Charts of this run](http://testserver/reports/runs/{run_id})" in chat_text
    worker = Worker(config, factory, clock, worker_id="w2", threads=False)
    while worker.send_due_notifications():
        pass
    (mail,) = server.recorder.mails()
    html = mail.get_body(("related", "html"))
    assert html is not None
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    cid = images[0]["Content-ID"].strip("<>")
    assert cid == f"burn-down-checkout-availability.{run_id}@tocsin"
    page = mail.get_body(("html",))
    assert page is not None
    assert f'src="cid:{cid}"' in page.get_content()
    png = images[0].get_content()
    assert png.startswith(b"\x89PNG")
    with open(shot("slo-burn-down-mail"), "wb") as out:
        out.write(png)


@pytest.fixture
def base(
    factory: sessionmaker[Session], clock: VirtualClock, make_server: MakeServer
) -> Iterator[tuple[str, int]]:
    config = config_with(make_server().port)
    run_id = run_report(factory, clock, config)
    give_passwords(factory, clock, config)
    with serving(Settings(config, factory, clock)) as url:
        yield url, run_id


def test_the_console_lists_runs_and_shows_one_with_its_charts(
    page: Page, base: tuple[str, int]
) -> None:
    url, run_id = base
    page.goto(f"{url}/reports")
    page.get_by_label("User").fill("cy")  # a viewer may read reports
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    page.screenshot(path=shot("console-reports"), full_page=True)
    page.get_by_role("link", name=f"#{run_id}").click()
    expect(page.get_by_role("heading", name="SLOs and error budgets — WARNING")).to_be_visible()
    charts = page.locator("figure.chart img")
    expect(charts).to_have_count(2)
    for i in range(2):
        for _ in range(100):  # until the browser has the image (or 10 s)
            if charts.nth(i).evaluate("img => img.complete && img.naturalWidth") > 0:
                break
            page.wait_for_timeout(100)
        else:
            raise AssertionError(f"chart {i} did not load")
    svg = page.request.get(f"{url}/reports/runs/{run_id}/charts/burn-down-checkout-month.svg")
    assert svg.status == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    page.screenshot(path=shot("console-report-run"), full_page=True)
    missing = page.goto(f"{url}/reports/runs/999999")
    assert missing is not None
    assert missing.status == 404
    bad = page.goto(f"{url}/reports/runs/{run_id}/charts/nope.svg")
    assert bad is not None
    assert bad.status == 404
