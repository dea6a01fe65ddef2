"""`tocsin status export DIR`: the page, its JSON, feed, CSV and badges as static files that
work from a plain folder, with a stale banner once the copy is over ten minutes old."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.status import STATUS, fire
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.db import read_scope
from tocsin.statuspage.export import files, write

runner = CliRunner()


def config_file(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\npublic_url: https://ops.example\n' + STATUS)
    return path


def test_the_export_writes_every_file_with_relative_links(
    tmp_path: Path, store_url: str, factory: sessionmaker[Session]
) -> None:
    fire(factory, SystemClock().now(), "CRITICAL", service="payments")
    out = tmp_path / "site"
    result = runner.invoke(
        app, ["status", "export", str(out), "-c", str(config_file(tmp_path, store_url))]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 17 files" in result.output
    index = (out / "index.html").read_text()
    assert 'href="./status.css"' in index
    assert 'href="./api/v2/summary.json"' in index
    assert '<meta http-equiv="refresh" content="60">' in index
    assert 'src="./stale.js"' in index
    summary = json.loads((out / "api/v2/summary.json").read_text())
    assert summary["page"]["url"] == "https://ops.example/status"
    assert summary["status"]["indicator"] == "critical"
    assert (out / "badge/checkout.svg").read_text().startswith("<svg")
    assert (out / "history.atom").read_text().startswith("<?xml")
    assert (out / "uptime.csv").read_text().startswith("component,kind,ref,start,end,minutes")
    assert not list(out.rglob(".tmp-*"))


def test_an_old_copy_shows_the_stale_banner_in_a_browser(
    page: Page, tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    config, _ = parse(STATUS, "tocsin.yaml", env={})
    now = SystemClock().now()
    for name, at in (("fresh", now), ("old", now - timedelta(minutes=11))):
        with read_scope(factory) as session:
            write(tmp_path / name, files(session, config.status, "https://x/status", at, at))
    page.goto((tmp_path / "fresh" / "index.html").as_uri())
    assert page.get_by_role("heading", name="All Systems Operational").is_visible()
    assert not page.locator("#stale").is_visible()
    page.goto((tmp_path / "old" / "index.html").as_uri())
    assert page.locator("#stale").is_visible()
    assert "has not been refreshed since" in page.locator("#stale").inner_text()
    page.screenshot(path=shot("status-export-stale"), full_page=True)


def test_status_show_lists_each_components_status(
    tmp_path: Path, store_url: str, factory: sessionmaker[Session]
) -> None:
    fire(factory, SystemClock().now(), "HIGH", service="payments")
    path = str(config_file(tmp_path, store_url))
    result = runner.invoke(app, ["status", "show", "-c", path])
    assert result.exit_code == 0, result.output
    assert "Acme: Partial System Outage" in result.output
    assert "Storefront / Checkout: partial_outage" in result.output
    assert "Search: operational" in result.output
    shown = runner.invoke(app, ["status", "show", "-c", path, "--json"])
    assert json.loads(shown.output)["status"]["indicator"] == "major"
