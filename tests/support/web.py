"""The API under test: its configuration (two heartbeats, a console channel), tokens of each
scope, a Prometheus alert as Alertmanager's API receives it, and small request helpers."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tocsin import acklinks
from tocsin.alerts.models import Alert
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.tokens import service as auth
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

HEARTBEAT_KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
CRON_KEY = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

CONFIG = f"""
public_url: https://tocsin.example
secret_key: "an-ack-link-secret-that-is-long-enough-0123"
api: {{rate_limit: 1000, rate_burst: 1000}}
channels:
  console: {{type: console}}
heartbeats:
  - {{name: backup, uuid: "{HEARTBEAT_KEY}", every: 1h, grace: 10m, severity: HIGH,
     labels: {{service: db}}}}
  - {{name: nightly, uuid: "{CRON_KEY}", cron: "0 3 * * *", timezone: America/New_York,
     grace: 30m}}
  - {{name: generated, every: 1d}}
"""


def api_config(extra: str = "") -> TocsinConfig:
    config, _ = parse(CONFIG + extra, "test.yaml", env={})
    return config


def make_token(factory: sessionmaker[Session], clock: VirtualClock, name: str, scopes: str) -> str:
    with session_scope(factory) as session:
        _, token = auth.create(session, name, auth.parse_scopes(scopes), clock.now())
    return token


def prom_alert(
    clock: VirtualClock, name: str = "HighErrorRate", ends_in: int = 240, **labels: str
) -> dict[str, Any]:
    now = clock.now()
    return {
        "labels": {"alertname": name, "severity": "critical", "job": "api", **labels},
        "annotations": {"summary": f"{name} on api", "description": "5% of requests fail"},
        "startsAt": (now - timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
        "endsAt": (now + timedelta(seconds=ends_in)).isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
    }


def alerts_in(factory: sessionmaker[Session]) -> list[Alert]:
    with session_scope(factory) as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)).all())


def fire(client: TestClient, ingest: dict[str, str], clock: VirtualClock, **labels: str) -> None:
    alert = {
        "labels": {"alertname": "DiskFull", "host": "db1", **labels},
        "annotations": {"summary": "disk full"},
        "endsAt": z(clock.now() + timedelta(minutes=5)),
    }
    assert client.post("/api/v2/alerts", json=[alert], headers=ingest).status_code == 200


def ack_path(
    client: TestClient, ingest: dict[str, str], factory: sessionmaker[Session], clock: VirtualClock
) -> str:
    """The path of a fresh alert's acknowledge link."""
    alert_id = fire_one(client, ingest)
    with session_scope(factory) as s:
        url = acklinks.link(s, api_config(), alert_id, clock.now())
    return url.removeprefix("https://tocsin.example")


SHIPPED = Path(str(resources.files("tocsin.examples").joinpath("runbooks")))


def client_for(factory: sessionmaker[Session], clock: VirtualClock, folder: Path) -> TestClient:
    config = api_config(f"runbooks: {{path: '{folder}'}}\n")
    return TestClient(create_app(Settings(config, factory, clock)))


def fire_one(client: TestClient, ingest: dict[str, str]) -> int:
    body = {"events": [{"key": "a", "title": "Payments <down>", "severity": "CRITICAL"}]}
    return int(
        client.post("/api/v1/events", json=body, headers=ingest).json()["results"][0]["alert_id"]
    )


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
