"""`/api/v1/incidents`: the same verbs as the CLI, scoped tokens, reference 000's update JSON,
and bad input refused with the field named and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import fire, incident_config, notices
from tests.support.web import make_token

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.incidents import postmortem
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

API = "api: {rate_limit: 1000, rate_burst: 1000}\n"


@pytest.fixture
def settings(factory: sessionmaker[Session], clock: VirtualClock) -> Settings:
    return Settings(incident_config(API), factory, clock)


@pytest.fixture
def client(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as client:
        yield client


def bearer(factory: sessionmaker[Session], clock: VirtualClock, scopes: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(factory, clock, scopes, scopes)}


def test_declare_command_update_and_close_over_the_api(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    write = bearer(factory, clock, "write")
    alert_id = fire(
        factory, settings.pipeline, clock, "disk full", severity="WARNING", service="db"
    )
    answer = client.post(
        "/api/v1/incidents",
        headers=write,
        json={"title": "Checkout failing", "severity": "SEV-1", "services": ["payments"],
              "alerts": [alert_id]},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    found = answer.json()
    incident = found["id"]
    assert (incident, found["commander_label"]) == ("INC-2026-11-17-001", "no commander")
    assert [a["id"] for a in found["alerts"]] == [alert_id]
    base = f"/api/v1/incidents/{incident}"
    answer = client.post(f"{base}/roles", headers=write, json={"role": "commander", "user": "ana"})
    assert answer.json()["commander"] == "ana"
    assert (
        client.post(f"{base}/notes", headers=write, json={"text": "Stripe 500s"}).status_code == 201
    )
    clock.advance(timedelta(minutes=12))
    reference = {  # reference 000 6.3.2 step 6, as its script posts it
        "incident_id": incident,
        "status": "mitigating",
        "customer_impact": "Orders cannot be placed",
        "eta_resolution": "15 minutes",
        "last_update": clock.now().isoformat(),
        "details": "Webhook processing restored. Backfilling 8 missed orders from last 12 minutes.",
    }
    answer = client.post(f"{base}/updates", headers=write, json=reference)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["status"], answer.json()["eta"]) == ("mitigating", "15 minutes")
    [sent] = notices(factory, "incident_update")
    assert sent["channel"] == "chat"
    assert "Backfilling 8 missed orders" in sent["message"]
    assert "Customer impact: Orders cannot be placed" in sent["message"]
    assert client.post(f"{base}/resolve", headers=write).json()["status"] == "resolved"
    assert client.post(f"{base}/close", headers=write).status_code == 409  # post-mortem first
    with session_scope(factory) as s:
        postmortem.mark_done(s, incident, "ana", clock.now())
    assert client.post(f"{base}/close", headers=write).json()["status"] == "closed"
    read = bearer(factory, clock, "read")
    detail = client.get(base, headers=read).json()
    assert detail["next_update_due_at"] is None
    assert [e["kind"] for e in detail["timeline"]] == [
        "declared", "alert_linked", "role_changed", "note",
        "status_changed", "update_posted", "status_changed", "postmortem_written",
        "postmortem_written", "status_changed",
    ]  # fmt: skip
    listed = client.get("/api/v1/incidents?status=closed", headers=read).json()
    assert [i["id"] for i in listed] == [incident]


def test_listings_come_a_page_at_a_time(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    write = bearer(factory, clock, "write")
    for n in range(5):
        client.post("/api/v1/incidents", headers=write, json={"title": f"incident {n}"})
    seen: list[str] = []
    url = "/api/v1/incidents?limit=2"
    while url:
        answer = client.get(url, headers=write)
        seen += [i["id"] for i in answer.json()]
        link = answer.headers.get("link")
        url = link[1 : link.index(">")] if link else ""
    assert seen == [f"INC-2026-11-17-{n:03d}" for n in range(5, 0, -1)]
    assert client.get("/api/v1/incidents?cursor=nonsense", headers=write).status_code == 400


def test_tokens_need_their_scope(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    read = bearer(factory, clock, "read")
    assert client.post("/api/v1/incidents", headers=read, json={"title": "x"}).status_code == 403
    assert client.get("/api/v1/incidents").status_code == 401
    assert client.get("/api/v1/incidents", headers=read).json() == []


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("", {"title": "x", "severity": "SEV-9"}, 400, "severity"),
        ("", {"title": "x", "commander": "zed"}, 400, "commander: 'zed'"),
        ("", {"title": "x", "declared_at": "2099-01-01T00:00:00Z"}, 400, "declared_at"),
        ("", {"title": "x", "declared_at": "2026-11-17T10:00:00"}, 400, "declared_at"),
        ("", {"title": "x\u0000"}, 400, "title"),
        ("", {"title": "x", "colour": "red"}, 400, "colour"),
        (
            "/INC-2026-11-17-001/updates",
            {"details": "x", "incident_id": "INC-1"},
            400,
            "incident_id",
        ),
        ("/INC-2026-11-17-001/updates", {"status": "resolved"}, 400, "message"),
        ("/INC-2026-11-17-001/status", {"status": "closed"}, 409, "investigating to closed"),
        ("/INC-2026-11-17-001/roles", {"role": "boss", "user": "ana"}, 400, "role"),
        ("/INC-2026-11-17-001/roles", {"role": "scribe", "user": "zed"}, 400, "scribe: 'zed'"),
        ("/INC-2026-11-17-001/alerts", {"alert_id": 999}, 404, "alert"),
        ("/INC-2026-11-17-009/notes", {"text": "x"}, 404, "INC-2026-11-17-009"),
        ("/INC-2026-11-17-001/merge", {"into": "INC-2026-11-17-001"}, 400, "into"),
        ("/nonsense/notes", {"text": "x"}, 400, "incident_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    client: TestClient,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    path: str,
    body: dict[str, Any],
    status: int,
    says: str,
) -> None:
    write = bearer(factory, clock, "write")
    client.post("/api/v1/incidents", headers=write, json={"title": "Checkout failing"})
    before = client.get("/api/v1/incidents/INC-2026-11-17-001", headers=write).json()
    answer = client.post(f"/api/v1/incidents{path}", headers=write, json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["message"]
    after = client.get("/api/v1/incidents/INC-2026-11-17-001", headers=write).json()
    assert after == before
    assert len(client.get("/api/v1/incidents", headers=write).json()) == 1


def test_the_openapi_document_has_the_incident_operations(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/incidents"])
    assert "post" in paths["/api/v1/incidents/{incident_id}/updates"]
