"""A real browser for page tests: Playwright (from PyPI) driving Debian's chromium.

Playwright's own browser download cannot work here, so the fixture launches the system
chromium through `executable_path`. Pages are served by `tests.support.peers.serving` (a real
uvicorn on loopback). Screenshots go to `tests/screenshots/` (ignored by git) so a person can
open them: `page.screenshot(path=shot("alerts-list"))`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("TOCSIN_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless chromium for one test. It fails, never skips, when chromium is missing
    (scripts/test installs it). Not session-wide: while Playwright's sync API is open it
    leaves an asyncio loop marked running in the thread, and every later `asyncio.run` in
    that test process would fail."""
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and one page in it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


def shot(name: str) -> str:
    """The path for a screenshot named `name` (PNG), creating the folder."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")
