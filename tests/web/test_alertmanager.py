"""Alertmanager's API v2 (what Prometheus and amtool send) and its webhook (version 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support import timers
from tests.support.web import alerts_in, api_config, prom_alert

from tocsin.alerts.models import AlertEvent
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.inbound.ends import WRITE_AT_ONCE
from tocsin.outbox.models import Notification
from tocsin.pipeline import Pipeline
from tocsin.web.deps import Settings
from tocsin.web.routes.inbound import flush_ends


def count(factory: sessionmaker[Session], model: type, *where: Any) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_prometheus_alerts_fire_once_and_refresh_on_every_resend(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    body = [prom_alert(clock), prom_alert(clock, instance="b")]
    assert client.post("/api/v2/alerts", json=body, headers=ingest).status_code == 200
    for _ in range(3):
        clock.advance(timedelta(seconds=30))
        again = {**prom_alert(clock), "startsAt": body[0]["startsAt"]}  # as Prometheus does
        assert client.post("/api/v2/alerts", json=[again], headers=ingest).status_code == 200
    found = alerts_in(factory)
    assert [(a.state, a.severity, a.origin, a.source) for a in found] == [
        ("firing", "CRITICAL", "alertmanager", "prometheus")
    ] * 2
    assert found[0].title == "HighErrorRate on api"
    # Each re-send moved endsAt 30 s later and was answered without a write: the latest end
    # waits for the API's next flush, in one UPDATE with any others.
    first_end = clock.now() - timedelta(seconds=90) + timedelta(seconds=240)
    assert found[0].ends_at == first_end
    assert flushed(client) == 1
    assert alerts_in(factory)[0].ends_at == clock.now() + timedelta(seconds=240)
    assert found[0].details is not None
    assert found[0].details["annotations"]["description"] == "5% of requests fail"
    assert count(factory, AlertEvent) == 2
    assert count(factory, Notification) == 2  # one console notification per new alert


def flushed(client: TestClient) -> int:
    """The API's flush of later ends, now (the fixture's app flushes by itself only hourly)."""
    moved: int = client.portal.call(flush_ends, client.app.state.settings)  # type: ignore[union-attr,attr-defined]
    return moved


def test_a_resend_near_its_stored_end_or_moving_it_earlier_is_written_at_once(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    client.post("/api/v2/alerts", json=[prom_alert(clock, ends_in=240)], headers=ingest)
    clock.advance(timedelta(seconds=240) - WRITE_AT_ONCE)  # the stored end is near
    client.post("/api/v2/alerts", json=[prom_alert(clock, ends_in=240)], headers=ingest)
    (alert,) = alerts_in(factory)
    assert alert.ends_at == clock.now() + timedelta(seconds=240)
    client.post("/api/v2/alerts", json=[prom_alert(clock, ends_in=100)], headers=ingest)
    (alert,) = alerts_in(factory)
    assert alert.ends_at == clock.now() + timedelta(seconds=100)
    assert flushed(client) == 0


def test_an_alert_resolves_when_the_latest_ends_at_passes_without_a_resend(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    first = prom_alert(clock, ends_in=60)
    client.post("/api/v2/alerts", json=[first], headers=ingest)
    clock.advance(timedelta(seconds=20))
    again = {**prom_alert(clock, ends_in=60), "startsAt": first["startsAt"]}
    client.post("/api/v2/alerts", json=[again], headers=ingest)
    assert flushed(client) == 1
    pipeline = Pipeline(api_config())
    clock.advance(timedelta(seconds=59))  # the first end has passed, the latest has not
    assert timers.tick(factory, pipeline, clock.now()) == 0
    clock.advance(timedelta(seconds=1))
    assert timers.tick(factory, pipeline, clock.now()) == 1
    (alert,) = alerts_in(factory)
    assert alert.state == "resolved"
    assert count(factory, Notification) == 2  # fired, resolved


def test_an_ends_at_in_the_past_resolves_at_once(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    client.post("/api/v2/alerts", json=[prom_alert(clock)], headers=ingest)
    client.post("/api/v2/alerts", json=[prom_alert(clock, ends_in=-1)], headers=ingest)
    assert [a.state for a in alerts_in(factory)] == ["resolved"]


def test_get_alerts_and_status_answer_in_alertmanager_shapes(
    client: TestClient, ingest: dict[str, str], admin: dict[str, str], clock: VirtualClock
) -> None:
    client.post("/api/v2/alerts", json=[prom_alert(clock)], headers=ingest)
    (alert,) = client.get("/api/v2/alerts", headers=admin).json()
    assert alert["labels"]["alertname"] == "HighErrorRate"
    assert alert["status"]["state"] == "active"
    assert alert["annotations"]["summary"] == "HighErrorRate on api"
    assert client.get("/api/v2/status", headers=admin).json()["cluster"]["status"] == "disabled"
    assert client.get("/api/v2/alerts", headers=ingest).status_code == 403


def test_a_batch_with_one_bad_alert_is_refused_whole_naming_the_field(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    bad = prom_alert(clock)
    bad["labels"] = {"bad-name": "x"}
    response = client.post("/api/v2/alerts", json=[prom_alert(clock), bad], headers=ingest)
    assert response.status_code == 400
    assert "alerts[1].labels" in response.json()  # a JSON string, as Alertmanager's
    response = client.post("/api/v2/alerts", content=b"[{", headers=ingest)
    assert response.status_code == 400
    assert alerts_in(factory) == []


def webhook(status: str, *alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "tocsin",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def am_alert(status: str, host: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "severity": "warning", "host": host},
        "annotations": {"summary": f"disk full on {host}"},
        "startsAt": "2026-11-17T13:50:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-17T14:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "c6a1b2c3d4e5f607",
    }


def test_an_alertmanager_webhook_fires_and_resolves_with_the_key_in_the_url(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session]
) -> None:
    key = ingest["Authorization"].removeprefix("Bearer ")
    body = webhook("firing", am_alert("firing", "a"), am_alert("firing", "b"))
    assert client.post(f"/api/v1/alertmanager/{key}", json=body).json()["alerts"] == 2
    body = webhook("resolved", am_alert("resolved", "a"))
    assert client.post("/api/v1/alertmanager", json=body, headers=ingest).status_code == 200
    assert [(a.state, a.severity, a.ends_at) for a in alerts_in(factory)] == [
        ("resolved", "WARNING", None),
        ("firing", "WARNING", None),
    ]
    assert client.post("/api/v1/alertmanager/tsn_nope", json=body).status_code == 401


def test_a_batch_that_only_repeats_is_answered_from_a_read_without_the_writer(
    client: TestClient,
    settings: Settings,
    ingest: dict[str, str],
    factory: sessionmaker[Session],
    clock: VirtualClock,
) -> None:
    """Prometheus re-sends every firing alert every cycle: a repeat reads, it does not queue
    for the writer (on SQLite it takes no lock); anything new in the batch still does."""
    queued: list[int] = []
    run = settings.group.run

    async def counting(work: Any) -> Any:
        queued.append(1)
        return await run(work)

    settings.group.run = counting  # type: ignore[method-assign]
    body = [prom_alert(clock), prom_alert(clock, instance="b")]
    assert client.post("/api/v2/alerts", json=body, headers=ingest).status_code == 200
    assert len(queued) == 1
    clock.advance(timedelta(seconds=30))
    assert client.post("/api/v2/alerts", json=body, headers=ingest).status_code == 200
    assert len(queued) == 1  # the repeat was answered from the read
    body.append(prom_alert(clock, instance="c"))
    assert client.post("/api/v2/alerts", json=body, headers=ingest).status_code == 200
    assert len(queued) == 2
    assert [a.labels.get("instance") for a in alerts_in(factory)] == [None, "b", "c"]
    assert count(factory, AlertEvent) == 3
