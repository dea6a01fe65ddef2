"""Input PostgreSQL's text and JSON cannot hold, and times Python cannot hold, on every
inbound format: the same answer on both stores (the `factory` fixture runs each test on
SQLite and PostgreSQL), never a 500.

- a NUL byte in a label, an annotation, a title, a message or the details is stored as
  U+FFFD (the documented normalisation);
- NaN and ±Infinity in details are stored as the strings "NaN", "Infinity", "-Infinity";
- a time past year 9999 once in UTC is a 400 naming the field, and stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import alerts_in, api_config, make_token, prom_alert

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

NUL = "\x00"


@pytest.fixture
def client(factory: sessionmaker[Session], clock: VirtualClock) -> Iterator[TestClient]:
    settings = Settings(api_config(), factory, clock)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def token(factory: sessionmaker[Session], clock: VirtualClock) -> str:
    return make_token(factory, clock, "prometheus", "ingest")


def test_nul_bytes_from_alertmanager_are_stored_as_replacement_characters(
    client: TestClient, token: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert = prom_alert(clock, job=f"a{NUL}b")
    alert["annotations"] = {"summary": f"sum{NUL}mary", "description": f"de{NUL}sc"}
    answer = client.post("/api/v2/alerts", json=[alert], headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    (stored,) = alerts_in(factory)
    assert stored.labels["job"] == "a\ufffdb"
    assert (stored.title, stored.message) == ("sum\ufffdmary", "de\ufffdsc")
    assert stored.details is not None
    assert stored.details["annotations"]["summary"] == "sum\ufffdmary"
    # The same body again is a repeat of what is stored, not a change.
    again = client.post("/api/v2/alerts", json=[alert], headers=_bearer(token))
    assert again.status_code == 200
    assert [a.id for a in alerts_in(factory)] == [stored.id]


def test_nul_bytes_and_nan_in_a_plain_event_are_normalised(
    client: TestClient, token: str, factory: sessionmaker[Session]
) -> None:
    body = (
        b'{"events": [{"key": "k\\u0000", "labels": {"svc\\u0000": "a\\u0000"},'
        b' "title": "t\\u0000", "message": "m\\u0000",'
        b' "details": {"n": NaN, "i": Infinity, "m": -Infinity, "deep": [{"x": NaN}],'
        b' "s\\u0000": "v\\u0000", "ok": 1.5}}]}'
    )
    answer = client.post(
        "/api/v1/events",
        content=body,
        headers={**_bearer(token), "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    (stored,) = alerts_in(factory)
    assert stored.labels == {"svc\ufffd": "a\ufffd"}
    assert (stored.title, stored.message) == ("t\ufffd", "m\ufffd")
    assert stored.details == {
        "n": "NaN",
        "i": "Infinity",
        "m": "-Infinity",
        "deep": [{"x": "NaN"}],
        "s\ufffd": "v\ufffd",
        "ok": 1.5,
    }


def test_nan_in_pagerduty_custom_details_is_stored_as_a_string(
    client: TestClient, token: str, factory: sessionmaker[Session]
) -> None:
    body = (
        b'{"routing_key": "TOKEN", "event_action": "trigger", "dedup_key": "d",'
        b' "payload": {"summary": "s\\u0000", "source": "h", "severity": "error",'
        b' "custom_details": {"load": NaN, "note": "x\\u0000"}}}'
    ).replace(b"TOKEN", token.encode())
    answer = client.post("/v2/enqueue", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    (stored,) = alerts_in(factory)
    assert stored.title == "s\ufffd"
    assert stored.details is not None
    assert stored.details["custom_details"] == {"load": "NaN", "note": "x\ufffd"}


@pytest.mark.parametrize("field", ["startsAt", "endsAt"])
def test_a_time_past_year_9999_in_utc_is_a_400_naming_the_field(
    client: TestClient, token: str, factory: sessionmaker[Session], clock: VirtualClock, field: str
) -> None:
    alert = prom_alert(clock)
    alert[field] = "9999-12-31T23:00:00-05:00"
    body = [prom_alert(clock, x="1"), alert]
    answer = client.post("/api/v2/alerts", json=body, headers=_bearer(token))
    assert answer.status_code == 400, answer.text
    assert f"[1].{field}" in answer.json()  # Alertmanager's error body is a JSON string
    assert alerts_in(factory) == []


def test_a_time_past_year_9999_in_a_webhook_or_event_is_a_400_naming_the_field(
    client: TestClient, token: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert: dict[str, Any] = {**prom_alert(clock), "status": "firing"}
    alert["endsAt"] = "9999-12-31T23:30:00-01:00"
    webhook = {"version": "4", "status": "firing", "alerts": [alert]}
    answer = client.post("/api/v1/alertmanager", json=webhook, headers=_bearer(token))
    assert answer.status_code == 400, answer.text
    assert "alerts[0].endsAt" in answer.json()["message"]
    event = {"events": [{"key": "k", "title": "t", "ends_at": "9999-12-31T23:30:00-01:00"}]}
    answer = client.post("/api/v1/events", json=event, headers=_bearer(token))
    assert answer.status_code == 400, answer.text
    assert "events[0].ends_at" in answer.json()["message"]
    assert alerts_in(factory) == []


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
