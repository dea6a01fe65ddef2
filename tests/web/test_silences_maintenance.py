"""Maintenance windows and known issues under /api/v1: scopes, what they mute (seen in
`GET /api/v2/alerts`), ending them early, and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import fire, make_token

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.noise.models import KnownIssue, MaintenanceWindow


def rows(factory: sessionmaker[Session], model: type[Any]) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def statuses(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    alerts = client.get("/api/v2/alerts", headers=headers).json()
    return {a["labels"]["alertname"]: a["status"] for a in alerts}


def test_a_window_mutes_its_services_until_it_is_ended(
    client: TestClient,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    ingest: dict[str, str],
) -> None:
    writer = {"Authorization": "Bearer " + make_token(factory, clock, "ana", "write")}
    reader = {"Authorization": "Bearer " + make_token(factory, clock, "bob", "read")}
    body = {"title": "DB migration", "services": ["db", "orders"], "for": "2h"}
    assert client.post("/api/v1/maintenance", json=body, headers=reader).status_code == 403
    made = client.post("/api/v1/maintenance", json=body, headers=writer)
    assert made.status_code == 201, made.text
    window = made.json()
    assert (window["status"], window["created_by"], window["services"]) == (
        "active",
        "ana",
        ["db", "orders"],
    )
    ahead = {
        "title": "Sunday backups",
        "services": ["backup"],
        "every": "0 2 * * sun",
        "duration": "2h",
        "timezone": "Europe/Paris",
    }
    weekly = client.post("/api/v1/maintenance", json=ahead, headers=writer).json()
    assert weekly["status"] == "pending"
    assert weekly["next_start"] == "2026-11-22T01:00:00Z"  # Sunday 02:00 in Paris
    fire(client, ingest, clock, service="db")
    fire(client, ingest, clock, alertname="CpuHigh", service="web")
    assert statuses(client, reader)["DiskFull"] == {
        "state": "suppressed",
        "silencedBy": [],
        "inhibitedBy": [],
        "mutedBy": [f"maintenance:{window['id']}"],
    }
    assert statuses(client, reader)["CpuHigh"]["state"] == "active"
    listed = client.get("/api/v1/maintenance", headers=reader).json()
    assert {w["id"]: w["suppressed"] for w in listed} == {window["id"]: 1, weekly["id"]: 0}
    clock.advance(timedelta(minutes=5))
    ended = client.post(f"/api/v1/maintenance/{window['id']}/end", headers=writer)
    assert (ended.status_code, ended.json()["status"]) == (200, "expired")
    assert statuses(client, reader)["DiskFull"]["state"] == "active"
    again = client.post(f"/api/v1/maintenance/{window['id']}/end", headers=writer)
    assert again.status_code == 409
    assert client.post("/api/v1/maintenance/nope/end", headers=writer).status_code == 404
    assert [w["id"] for w in client.get("/api/v1/maintenance", headers=reader).json()] == [
        weekly["id"]
    ]
    assert len(client.get("/api/v1/maintenance?all=true", headers=reader).json()) == 2


def test_bad_windows_are_refused_and_change_nothing(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session]
) -> None:
    good = {"title": "DB migration", "services": ["db"], "for": "2h"}
    for change, status, says in [
        ({"services": []}, 400, "services"),
        ({"services": [" "]}, 400, "at least one affected service"),
        ({"title": ""}, 400, "title"),
        ({"for": None}, 400, "give one of for"),
        ({"for": None, "ends_at": "2026-11-17T12:00:00Z"}, 400, "must be after the start"),
        ({"starts_at": "2026-11-17T12:00:00+02:00", "for": "1h"}, 400, "in the past"),
        ({"every": "61 * * * *", "duration": "1h"}, 400, "not a valid cron"),
        ({"colour": "red"}, 400, "colour"),
        ({"services": ["a\x00"]}, 400, "services"),
    ]:
        answer = client.post("/api/v1/maintenance", json=good | change, headers=admin)
        assert answer.status_code == status, (change, answer.text)
        assert says in answer.json()["message"], (change, answer.text)
    assert rows(factory, MaintenanceWindow) == 0


def test_a_known_issue_suppresses_and_counts_until_it_is_expired(
    client: TestClient,
    admin: dict[str, str],
    ingest: dict[str, str],
    clock: VirtualClock,
) -> None:
    body = {
        "id": "DISK-2026-11-17-001",
        "matchers": ['host=~"db.*"'],
        "message_contains": "disk",
        "reason": "db1's disk is being replaced",
    }
    made = client.post("/api/v1/known-issues", json=body, headers=admin)
    assert made.status_code == 201, made.text
    issue = made.json()
    assert issue["expires_at"] == (clock.now() + timedelta(hours=1)).isoformat().replace(
        "+00:00", "Z"
    )
    assert (issue["origin"], issue["created_by"], issue["status"]) == ("api", "ops", "active")
    taken = client.post("/api/v1/known-issues", json=body, headers=admin)
    assert taken.status_code == 409
    fire(client, ingest, clock)
    assert statuses(client, admin)["DiskFull"]["mutedBy"] == ["known_issue:DISK-2026-11-17-001"]
    (listed,) = client.get("/api/v1/known-issues", headers=admin).json()
    assert listed["suppressed"] == 1
    gone = client.delete("/api/v1/known-issues/DISK-2026-11-17-001", headers=admin)
    assert gone.json()["status"] == "expired"
    assert client.delete("/api/v1/known-issues/DISK-2026-11-17-001", headers=admin).status_code == (
        409
    )
    assert client.delete("/api/v1/known-issues/NOPE-1", headers=admin).status_code == 404
    assert statuses(client, admin)["DiskFull"]["state"] == "active"
    assert client.get("/api/v1/known-issues", headers=admin).json() == []
    assert len(client.get("/api/v1/known-issues?all=1", headers=admin).json()) == 1


def test_bad_known_issues_are_refused_and_change_nothing(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session]
) -> None:
    good = {"id": "PRINT-1", "matchers": ['service="print"'], "reason": "printful is down"}
    for change, status, says in [
        ({"id": "no spaces allowed"}, 400, "not an id"),
        ({"matchers": []}, 400, "needs a pattern"),
        ({"matchers": ["service=~'('"]}, 400, "bad regular expression"),
        ({"message_regex": "("}, 400, "not a regular expression"),
        ({"reason": ""}, 400, "reason"),
        ({"expires_at": "2026-11-17T13:00:00Z"}, 400, "in the future"),
        ({"expires_at": "2026-11-17T18:00:00Z", "for": "1h"}, 400, "not both"),
        ({"for": "3650000d"}, 400, "100 years"),
        ({"expires_at": "2026-11-17T18:00:00"}, 400, "timezone"),
    ]:
        answer = client.post("/api/v1/known-issues", json=good | change, headers=admin)
        assert answer.status_code == status, (change, answer.text)
        assert says in answer.json()["message"], (change, answer.text)
    assert rows(factory, KnownIssue) == 0
