"""The post-mortem, action items and customer communications over the API: the same as
`tocsin incident postmortem|action|actions|comms`, scoped, bad input refused naming the field
with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import incident_config
from tests.support.web import make_token

from tocsin.clock import VirtualClock
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

API = "api: {rate_limit: 1000, rate_burst: 1000}\n"


@pytest.fixture
def client(factory: sessionmaker[Session], clock: VirtualClock) -> Any:
    with TestClient(create_app(Settings(incident_config(API), factory, clock))) as client:
        yield client


def test_postmortem_actions_and_comms_over_the_api(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    write = {"Authorization": "Bearer " + make_token(factory, clock, "w", "write")}
    read = {"Authorization": "Bearer " + make_token(factory, clock, "r", "read")}
    created = client.post(
        "/api/v1/incidents",
        headers=write,
        json={"title": "Checkout failing", "severity": "SEV-1", "commander": "ana"},
    )
    incident = created.json()["id"]
    base = f"/api/v1/incidents/{incident}"
    early = client.get(f"{base}/postmortem", headers=read)
    assert early.status_code == 404
    assert "drafted when it resolves" in early.json()["message"]

    item = client.post(
        f"{base}/actions",
        headers=write,
        json={"text": "Alert on webhook lag", "owner": "bo", "due_at": "2026-11-20T17:00:00Z"},
    )
    assert item.status_code == 201, item.text
    assert (item.json()["owner"], item.json()["done_at"]) == ("bo", None)
    bad = [
        {"text": "x", "owner": "nobody", "due_at": "2026-11-20T17:00:00Z"},  # unknown user
        {"text": "x", "owner": "bo", "due_at": "2026-11-20T17:00:00"},  # no zone
        {"text": "", "owner": "bo", "due_at": "2026-11-20T17:00:00Z"},
        {"owner": "bo", "due_at": "2026-11-20T17:00:00Z"},
    ]
    for body in bad:
        refused = client.post(f"{base}/actions", headers=write, json=body)
        assert refused.status_code == 400, (body, refused.text)
    assert client.post(f"{base}/actions", headers=read, json=bad[0]).status_code == 403
    unchecked = {
        "text": "x",
        "owner": "bo",
        "due_at": "2026-11-20T17:00:00Z",
        "verify": {"source": "nowhere", "test": "x == 0"},
    }
    refused = client.post(f"{base}/actions", headers=write, json=unchecked)
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("verify.source: 'nowhere' is not a source")
    listed = client.get("/api/v1/action-items?open=true", headers=read).json()
    assert [a["text"] for a in listed] == ["Alert on webhook lag"]
    done = client.post(f"/api/v1/action-items/{item.json()['id']}/done", headers=write)
    assert (done.status_code, done.json()["done_by"]) == (200, "w")
    again = client.post(f"/api/v1/action-items/{item.json()['id']}/done", headers=write)
    assert again.status_code == 409
    assert client.post("/api/v1/action-items/999999/done", headers=write).status_code == 404
    assert client.get("/api/v1/action-items?open=true", headers=read).json() == []
    assert client.get("/api/v1/action-items?nope=1", headers=read).status_code == 400

    comms = client.get(f"{base}/comms?template=status-update", headers=read)
    assert comms.status_code == 200, comms.text
    assert "Checkout failing" in comms.json()["text"]
    unknown = client.get(f"{base}/comms?template=nope", headers=read)
    assert unknown.status_code == 400
    assert "'nope' is not one of" in unknown.json()["message"]

    assert client.post(f"{base}/resolve", headers=write).status_code == 200
    drafted = client.get(f"{base}/postmortem", headers=read).json()
    assert drafted["markdown"].startswith("#")
    assert drafted["done_at"] is None
    marked = client.post(f"{base}/postmortem/done", headers=write).json()
    assert marked["done_at"] is not None
    assert client.post(f"{base}/close", headers=write).json()["status"] == "closed"


def test_the_openapi_document_lists_the_follow_up_operations(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/incidents/{incident_id}/postmortem",
        "/api/v1/incidents/{incident_id}/postmortem/done",
        "/api/v1/incidents/{incident_id}/actions",
        "/api/v1/action-items",
        "/api/v1/action-items/{action_id}/done",
        "/api/v1/incidents/{incident_id}/comms",
    ):
        assert path in paths
