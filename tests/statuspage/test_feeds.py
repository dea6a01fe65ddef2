"""The Atom feed and the SVG badges, read back by an XML parser."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.status import fire, status_config, window

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"


def client(factory: sessionmaker[Session], clock: VirtualClock) -> TestClient:
    return TestClient(create_app(Settings(status_config(), factory, clock)))


def test_the_feed_lists_scheduled_maintenance(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    window(factory, clock.now(), ["search"], timedelta(days=1), timedelta(hours=1), "Reindex <3>")
    with client(factory, clock) as http:
        answer = http.get("/status/history.atom")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(answer.content)  # noqa: S314 (our own answer)
    assert feed.findtext(f"{ATOM}title") == "Acme status"
    assert feed.findtext(f"{ATOM}id") == "https://tocsin.example/status"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Reindex <3>"]
    content = entries[0].findtext(f"{ATOM}content") or ""
    assert content.startswith("Scheduled maintenance 2026-11-18T14:00:00Z to 2026-11-18T15:00:00Z")


def test_a_badge_says_its_components_status(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    fire(factory, clock.now(), "CRITICAL", service="payments")
    with client(factory, clock) as http:
        answer = http.get("/status/badge/checkout.svg")
        missing = http.get("/status/badge/nothing.svg")
        fine = http.get("/status/badge/website.svg")
    assert answer.headers["content-type"] == "image/svg+xml"
    svg = ElementTree.fromstring(answer.content)  # noqa: S314 (our own answer)
    assert svg.get("aria-label") == "Checkout: major outage"
    assert svg.findtext(f"{SVG}title") == "Checkout: major outage"
    assert [r.get("fill") for r in svg.findall(f"{SVG}rect")] == ["#555", "#b00020"]
    assert missing.status_code == 404
    assert "known: website, checkout, backups, search" in missing.text
    assert "operational" in fine.text
