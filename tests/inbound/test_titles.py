"""One title rule at every entry point (tocsin.titles): a title over 300 characters is cut to
end in "…", never refused, and its full text is kept in the message; on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import alerts_in, api_config, make_token, prom_alert

from tocsin.clock import VirtualClock
from tocsin.titles import fit
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

LONG = "Disk nearly full on " + "db-replica-" * 40  # 460 characters
CUT = LONG[:299] + "…"


@pytest.fixture
def client(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(api_config(), factory, clock))) as client:
        yield client


@pytest.fixture
def bearer(factory: sessionmaker[Session], clock: VirtualClock) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(factory, clock, "prometheus", "ingest")}


def test_the_rule_cuts_with_an_ellipsis_and_keeps_the_full_text_in_the_message() -> None:
    assert fit("short", "m") == ("short", "m")
    assert fit("x" * 300, "") == ("x" * 300, "")
    assert fit(LONG, "") == (CUT, LONG)
    assert fit(LONG, "what happened") == (CUT, f"{LONG}\n\nwhat happened")
    assert fit(LONG, f"said: {LONG}") == (CUT, f"said: {LONG}")  # already there: kept as is
    assert len(CUT) == 300


def test_a_long_alertmanager_summary_is_cut_and_kept(
    client: TestClient, bearer: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert = prom_alert(clock)
    alert["annotations"] = {"summary": LONG, "description": "5% of requests fail"}
    assert client.post("/api/v2/alerts", json=[alert], headers=bearer).status_code == 200
    (stored,) = alerts_in(factory)
    assert stored.title == CUT
    assert stored.message == f"{LONG}\n\n5% of requests fail"
    assert stored.details is not None
    assert stored.details["annotations"]["summary"] == LONG


def test_a_long_webhook_summary_is_cut_and_kept(
    client: TestClient, bearer: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert: dict[str, Any] = {**prom_alert(clock), "status": "firing"}
    alert["annotations"] = {"summary": LONG}
    body = {"version": "4", "status": "firing", "alerts": [alert]}
    assert client.post("/api/v1/alertmanager", json=body, headers=bearer).status_code == 200
    (stored,) = alerts_in(factory)
    assert (stored.title, stored.message) == (CUT, LONG)


def test_a_long_pagerduty_summary_is_cut_and_kept(
    client: TestClient, bearer: dict[str, str], factory: sessionmaker[Session]
) -> None:
    token = bearer["Authorization"].removeprefix("Bearer ")
    event = {
        "routing_key": token,
        "event_action": "trigger",
        "dedup_key": "disk",
        "payload": {"summary": LONG, "source": "db", "severity": "warning"},
    }
    assert client.post("/v2/enqueue", json=event).status_code == 202
    (stored,) = alerts_in(factory)
    assert (stored.title, stored.message) == (CUT, LONG)


def test_a_long_plain_event_title_is_cut_and_kept_not_refused(
    client: TestClient, bearer: dict[str, str], factory: sessionmaker[Session]
) -> None:
    body = {"events": [{"key": "disk", "title": LONG, "message": "95% used"}]}
    answer = client.post("/api/v1/events", json=body, headers=bearer)
    assert answer.status_code == 200, answer.text
    (stored,) = alerts_in(factory)
    assert (stored.title, stored.message) == (CUT, f"{LONG}\n\n95% used")
