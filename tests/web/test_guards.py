"""Auth, scopes, rate limit, body limit, health, readiness, metrics, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.web import api_config, make_token

from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.instances.models import WorkerHeartbeat
from tocsin.tokens import service as auth
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


def test_requests_without_a_good_token_get_a_clear_401_or_403(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    none = client.get("/api/v1/alerts")
    assert none.status_code == 401
    assert none.json()["error"] == "unauthorized"
    assert none.headers["www-authenticate"] == "Bearer"
    wrong = client.get("/api/v1/alerts", headers={"Authorization": "Bearer tsn_nope"})
    assert wrong.json()["message"] == "the token is unknown or revoked"
    forbidden = client.get("/api/v1/alerts", headers=ingest)
    assert forbidden.status_code == 403
    assert "needs read" in forbidden.json()["message"]
    reader = make_token(factory, clock, "grafana", "read")
    basic = client.get("/api/v1/alerts", auth=("amtool", reader))
    assert basic.status_code == 200
    with session_scope(factory) as s:
        auth.revoke(s, "grafana", clock.now())
    app2 = TestClient(create_app(Settings(api_config(), factory, clock)))
    assert app2.get("/api/v1/alerts", auth=("amtool", reader)).status_code == 401


def test_a_token_over_its_rate_gets_429_with_retry_after(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = api_config().model_copy(
        update={"api": api_config().api.model_copy(update={"rate_limit": 0.01, "rate_burst": 2})}
    )
    token = make_token(factory, clock, "chatty", "read")
    with TestClient(create_app(Settings(config, factory, clock))) as client:
        codes = [client.get("/api/v1/alerts", auth=("x", token)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        answer = client.get("/api/v1/alerts", auth=("x", token))
    assert int(answer.headers["retry-after"]) >= 1


def test_bodies_over_the_limit_get_413_even_when_chunked(
    client: TestClient, ingest: dict[str, str]
) -> None:
    big = b"[" + b" " * 1_100_000 + b"]"
    assert client.post("/api/v2/alerts", content=big, headers=ingest).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100_000

    answer = client.post("/api/v1/events", content=chunks(), headers=ingest)
    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"


def test_readyz_names_the_failing_part(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["failing"] == ["workers"]
    with session_scope(factory) as s:
        now = clock.now()
        s.add(WorkerHeartbeat(id="w1", hostname="h", pid=1, started_at=now, heartbeat_at=now))
    up = client.get("/readyz")
    assert up.status_code == 200
    assert up.json()["status"] == "healthy"
    clock.advance(timedelta(minutes=5))
    assert client.get("/readyz").status_code == 503


def test_metrics_are_prometheus_text_read_from_the_store(
    client: TestClient, ingest: dict[str, str]
) -> None:
    body = {"events": [{"key": "a", "title": "A", "severity": "CRITICAL"}]}
    client.post("/api/v1/events", json=body, headers=ingest)
    text = client.get("/metrics").text
    assert 'tocsin_alerts{severity="CRITICAL",state="firing"} 1.0' in text
    assert 'tocsin_notifications{channel="console",state="pending"} 1.0' in text
    assert "tocsin_outbox_depth 1.0" in text


def test_the_openapi_document_lists_every_inbound_route(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v2/alerts", "/v2/enqueue", "/api/v1/events", "/ping/{key}", "/readyz"):
        assert path in doc["paths"]
    schema = doc["paths"]["/v2/enqueue"]["post"]["requestBody"]["content"]["application/json"]
    assert "routing_key" in schema["schema"]["properties"]
    assert "Payload" in doc["components"]["schemas"]


def test_metrics_show_escalation_steps_overdue_and_how_late_they_fired(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config = api_config(
        "escalation_policies:\n"
        "  critical: {steps: [{after: 0m, notify: [console]}, {after: 5m, notify: [console]}]}\n"
    )
    settings = Settings(config, factory, clock)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": "Bearer " + make_token(factory, clock, "ops", "ingest")}
        body = {"events": [{"key": "a", "title": "A", "severity": "CRITICAL"}]}
        assert client.post("/api/v1/events", json=body, headers=headers).status_code < 300
        clock.advance(timedelta(minutes=7))  # step 2 came due 2 minutes ago; no worker ran
        text = client.get("/metrics").text
        assert 'tocsin_escalation_steps{state="fired"} 1.0' in text
        assert 'tocsin_escalation_steps{state="pending"} 1.0' in text
        assert "tocsin_escalation_steps_overdue 1.0" in text
        with session_scope(factory) as s:
            assert settings.pipeline.escalator.fire_due(s, clock.now()) == 1
        clock.advance(timedelta(seconds=11))  # past the metrics cache
        text = client.get("/metrics").text
        assert "tocsin_escalation_steps_overdue 0.0" in text
        assert 'tocsin_escalation_lateness_seconds{quantile="1"} 120.0' in text
