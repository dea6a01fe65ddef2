"""Public incidents on the page, in the Statuspage JSON, in uptime and in the Atom feed: an
incident is private unless published, and only the updates posted while public are shown."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.status import declare, fire, post, status_config

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

ATOM = "{http://www.w3.org/2005/Atom}"


def client(factory: sessionmaker[Session], clock: VirtualClock) -> TestClient:
    return TestClient(create_app(Settings(status_config(), factory, clock)))


def components(http: TestClient) -> dict[str, str]:
    found: list[dict[str, Any]] = http.get("/status/api/v2/components.json").json()["components"]
    return {c["id"]: c["status"] for c in found if not c["group"]}


def test_a_public_incident_and_its_updates_newest_first(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    incident = declare(factory, clock.now(), ago=timedelta(minutes=5))
    post(factory, clock.now(), incident, "We are looking into failed payments.")
    clock.advance(timedelta(minutes=10))
    post(factory, clock.now(), incident, "A bad deploy; rolling back.", "identified")
    with client(factory, clock) as http:
        summary = http.get("/status/api/v2/summary.json").json()
        page = http.get("/status").text
        unresolved = http.get("/status/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [i["id"] for i in unresolved] == [incident]
    (shown,) = summary["incidents"]
    assert shown["name"] == "Checkout is failing"
    assert shown["status"] == "identified"
    assert shown["impact"] == "critical"
    assert shown["started_at"] == "2026-11-17T13:55:00Z"
    assert [u["body"] for u in shown["incident_updates"]] == [
        "A bad deploy; rolling back.",
        "We are looking into failed payments.",
    ]
    assert [u["status"] for u in shown["incident_updates"]] == ["identified", "investigating"]
    assert all(u["incident_id"] == incident for u in shown["incident_updates"])
    assert [c["id"] for c in shown["components"]] == ["checkout"]
    # The incident's cadence (15 minutes by default) from its last update at 14:10.
    assert "Next update by" in page
    assert "14:25 UTC" in page
    assert page.index("A bad deploy") < page.index("We are looking into")
    assert "Current incidents" in page


def test_a_private_incident_and_private_updates_stay_off_the_page(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    hidden = declare(factory, clock.now(), title="Internal only", public=False)
    post(factory, clock.now(), hidden, "secret investigation")
    shown = declare(
        factory, clock.now(), title="Search is slow", services=("search",), public=False
    )
    post(factory, clock.now(), shown, "an internal note")  # posted while private
    post(factory, clock.now(), shown, "said while public", public=True)  # publishes it
    with client(factory, clock) as http:
        body = http.get("/status/api/v2/incidents.json").text
        page = http.get("/status").text
    for text in (body, page):
        assert "Internal only" not in text
        assert "secret investigation" not in text
        assert "an internal note" not in text
        assert "said while public" in text


def test_the_declared_impact_overrides_what_alerts_say(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    fire(factory, clock.now(), "WARNING", service="payments")
    fire(factory, clock.now(), "CRITICAL", service="web")
    with client(factory, clock) as http:
        before = components(http)
        assert before["checkout"] == "degraded_performance"
        incident = declare(factory, clock.now(), severity="SEV-2", services=("payments", "web"))
        after = components(http)
        assert after["checkout"] == "partial_outage"
        assert after["website"] == "partial_outage"  # the incident's word, not the alert's
        status = http.get("/status/api/v2/status.json").json()["status"]
        assert status["indicator"] == "major"
        # SEV-4 declares no impact: the alerts' statuses stand.
        declare(factory, clock.now(), severity="SEV-4", services=("search",))
        assert components(http)["search"] == "operational"
        post(factory, clock.now(), incident, "Fixed.", "resolved")
        assert components(http)["checkout"] == "degraded_performance"


def test_resolved_incidents_are_history_and_count_in_uptime(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    incident = declare(factory, clock.now(), ago=timedelta(hours=2))
    post(factory, clock.now() - timedelta(hours=1), incident, "Recovered.", "resolved")
    old = declare(factory, clock.now(), title="Long ago", ago=timedelta(days=300))
    post(factory, clock.now() - timedelta(days=299), old, "Done.", "resolved")
    with client(factory, clock) as http:
        listed = http.get("/status/api/v2/incidents.json").json()["incidents"]
        unresolved = http.get("/status/api/v2/incidents/unresolved.json").json()["incidents"]
        page = http.get("/status").text
        rows = list(csv.DictReader(io.StringIO(http.get("/status/uptime.csv").text)))
        feed = ElementTree.fromstring(http.get("/status/history.atom").content)  # noqa: S314
    assert unresolved == []
    assert [(i["id"], i["status"]) for i in listed] == [(incident, "resolved")]
    assert listed[0]["resolved_at"] == "2026-11-17T13:00:00Z"
    assert "Past incidents" in page
    assert "Long ago" not in page
    spans = [(r["component"], r["ref"], r["minutes"]) for r in rows if r["kind"] == "outage"]
    assert spans == [("checkout", f"incident {incident}", "60.0")]
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert titles == ["Checkout is failing"]
    assert "Recovered." in (feed.find(f"{ATOM}entry/{ATOM}content").text or "")  # type: ignore[union-attr]
