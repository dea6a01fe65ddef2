"""PagerDuty Events API v2 bodies as PagerDuty documents them, and the plain JSON event."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import alerts_in

from tocsin.alerts.models import Alert
from tocsin.db import session_scope


def pd_trigger(key: str, **extra: Any) -> dict[str, Any]:
    return {
        "payload": {
            "summary": "DISK at 99% on machine prod-datapipe03.example.com",
            "timestamp": "2026-11-17T14:00:00.000+0000",
            "severity": "critical",
            "source": "prod-datapipe03.example.com",
            "component": "mysql",
            "group": "prod-datapipe",
            "class": "disk",
            "custom_details": {"free space": "1%", "ping time": "1500ms"},
        },
        "routing_key": key,
        "event_action": "trigger",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.example.com",
        "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
        **extra,
    }


def test_pagerduty_trigger_acknowledge_resolve_by_dedup_key(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session]
) -> None:
    key = ingest["Authorization"].removeprefix("Bearer ")
    answer = client.post("/v2/enqueue", json=pd_trigger(key, dedup_key="srv01/mysql"))
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "srv01/mysql",
    }
    assert (
        client.post("/v2/enqueue", json=pd_trigger(key, dedup_key="srv01/mysql")).status_code == 202
    )
    (alert,) = alerts_in(factory)
    assert (alert.origin, alert.severity, alert.state, alert.source) == (
        "pagerduty",
        "CRITICAL",
        "firing",
        "prometheus",
    )
    assert alert.labels["component"] == "mysql"
    ack = {"routing_key": key, "event_action": "acknowledge", "dedup_key": "srv01/mysql"}
    assert client.post("/v2/enqueue", json=ack).status_code == 202
    resolve = {**ack, "event_action": "resolve"}
    assert client.post("/v2/enqueue", json=resolve).status_code == 202
    with session_scope(factory) as s:
        alert = s.scalars(select(Alert)).one()
    assert alert.state == "resolved"
    assert alert.acknowledged_by == "prometheus"
    # resolving what is not open is accepted and changes nothing, as PagerDuty does
    assert client.post("/v2/enqueue", json=resolve).status_code == 202


def test_a_trigger_without_dedup_key_gets_one_back(
    client: TestClient, ingest: dict[str, str]
) -> None:
    key = ingest["Authorization"].removeprefix("Bearer ")
    answer = client.post("/v2/enqueue", json=pd_trigger(key)).json()
    assert len(answer["dedup_key"]) == 32


def test_pagerduty_errors_come_back_as_pagerduty_sends_them(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session]
) -> None:
    key = ingest["Authorization"].removeprefix("Bearer ")
    bad = pd_trigger(key)
    del bad["payload"]["summary"]
    answer = client.post("/v2/enqueue", json=bad)
    assert answer.status_code == 400
    assert answer.json()["status"] == "invalid event"
    assert answer.json()["message"] == "Event object is invalid"
    assert any("payload.summary" in e for e in answer.json()["errors"])
    unknown = client.post("/v2/enqueue", json=pd_trigger("tsn_" + "x" * 43))
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == ["routing_key: not a known integration key"]
    no_key = client.post("/v2/enqueue", json={"routing_key": key, "event_action": "resolve"})
    assert no_key.json()["errors"] == ["dedup_key: is required for an resolve event"]
    assert alerts_in(factory) == []


def test_plain_events_fire_and_resolve_by_key(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session]
) -> None:
    fire = {
        "events": [
            {"key": "backup", "title": "Nightly backup failed", "severity": "HIGH",
             "labels": {"service": "db"}, "message": "pg_dump exited 1"},
            {"labels": {"job": "etl"}, "title": "ETL late", "severity": "info"},
        ]
    }  # fmt: skip
    answer = client.post("/api/v1/events", json=fire, headers=ingest)
    assert [r["outcome"] for r in answer.json()["results"]] == ["created", "created"]
    done = {"events": [{"key": "backup", "action": "resolve"}]}
    answer = client.post("/api/v1/events", json=done, headers=ingest)
    assert [r["outcome"] for r in answer.json()["results"]] == ["resolved"]
    assert [(a.severity, a.state) for a in alerts_in(factory)] == [
        ("HIGH", "resolved"),
        ("INFO", "firing"),
    ]


def test_a_plain_event_batch_with_a_bad_event_stores_nothing(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session]
) -> None:
    body = {"events": [{"key": "a", "title": "fine"}, {"key": "b"}, {"title": "who?"}]}
    answer = client.post("/api/v1/events", json=body, headers=ingest)
    assert answer.status_code == 400
    assert answer.json()["problems"] == [
        "events[1].title: is required to fire",
        "events[2]: give a 'key' or some 'labels' to identify it",
    ]
    assert alerts_in(factory) == []


def test_a_pagerduty_retrigger_updates_custom_details_and_never_nulls_them(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session]
) -> None:
    key = ingest["Authorization"].removeprefix("Bearer ")
    first = pd_trigger(key, dedup_key="srv01/mysql")
    assert client.post("/v2/enqueue", json=first).status_code == 202
    # a re-trigger without custom_details keeps the ones sent before
    bare = pd_trigger(key, dedup_key="srv01/mysql")
    del bare["payload"]["custom_details"]
    assert client.post("/v2/enqueue", json=bare).status_code == 202
    (alert,) = alerts_in(factory)
    assert alert.details is not None
    assert alert.details["custom_details"] == {"free space": "1%", "ping time": "1500ms"}
    # one with new custom_details replaces them
    newer = pd_trigger(key, dedup_key="srv01/mysql")
    newer["payload"]["custom_details"] = {"free space": "0.5%"}
    assert client.post("/v2/enqueue", json=newer).status_code == 202
    (alert,) = alerts_in(factory)
    assert alert.details is not None
    assert alert.details["custom_details"] == {"free space": "0.5%"}
    assert alert.details["links"] == [
        {"href": "http://pagerduty.example.com", "text": "An example link."}
    ]
