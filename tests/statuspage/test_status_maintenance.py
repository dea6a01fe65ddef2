"""Scheduled maintenance on the status page: only windows marked public, made by the API
(`"public": true`), the CLI (`--public`) or the configuration (`public: true`); a private
window neither shows nor puts its components under maintenance nor leaves uptime."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.status import STATUS, fire, resolve, status_config, window
from tests.support.web import make_token
from typer.testing import CliRunner

from tocsin.clock import VirtualClock
from tocsin.config import load
from tocsin.db import make_engine, session_scope
from tocsin.noise.models import MaintenanceWindow
from tocsin.noise.steps import seed
from tocsin.web.app import create_app
from tocsin.web.deps import Settings


def client(factory: sessionmaker[Session], clock: VirtualClock) -> TestClient:
    return TestClient(create_app(Settings(status_config(), factory, clock)))


def test_only_public_windows_are_shown_and_held(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert = fire(factory, clock.now() - timedelta(hours=2), "CRITICAL", service="search")
    resolve(factory, alert, clock.now() - timedelta(hours=1))
    window(
        factory, clock.now(), ["search"], timedelta(0), timedelta(hours=1), "Quiet", public=False
    )
    window(factory, clock.now(), ["web"], timedelta(days=1), timedelta(hours=1), "CDN move")
    with client(factory, clock) as http:
        listed = http.get("/status/api/v2/scheduled-maintenances.json").json()
        components = http.get("/status/api/v2/components.json").json()["components"]
        page = http.get("/status").text
        rows = http.get("/status/uptime.csv").text
    assert [m["name"] for m in listed["scheduled_maintenances"]] == ["CDN move"]
    assert {c["id"]: c["status"] for c in components}["search"] == "operational"
    assert "Quiet" not in page
    assert "CDN move" in page
    assert "maintenance" not in rows.splitlines()[1:][0]  # the outage row only


def test_the_api_marks_a_window_public_and_refuses_a_bad_flag(
    factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    writer = {"Authorization": "Bearer " + make_token(factory, clock, "ana", "write")}
    with client(factory, clock) as http:
        body = {"title": "Reindex", "services": ["search"], "for": "1h", "public": True}
        made = http.post("/api/v1/maintenance", json=body, headers=writer)
        assert made.status_code == 201, made.text
        assert made.json()["public"] is True
        bad = http.post("/api/v1/maintenance", json={**body, "public": "perhaps"}, headers=writer)
        assert bad.status_code in (400, 422)
        assert "public" in bad.text
        private = http.post(
            "/api/v1/maintenance", json={**body, "public": False, "title": "x"}, headers=writer
        )
        assert private.json()["public"] is False
        active = http.get("/status/api/v2/scheduled-maintenances/active.json").json()
    assert [m["name"] for m in active["scheduled_maintenances"]] == ["Reindex"]
    with session_scope(factory) as s:
        assert len(s.scalars(select(MaintenanceWindow)).all()) == 2


def test_the_cli_and_the_configuration_mark_windows_public(tmp_path: Path, store_url: str) -> None:
    from tocsin.cli import app

    seeded = """
maintenance:
  - {id: upgrade, title: Seeded upgrade, services: [web], public: true,
     starts_at: "2099-01-01T00:00:00Z", ends_at: "2099-01-01T01:00:00Z"}
"""
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\n' + STATUS + seeded)
    runner = CliRunner()
    for title, flag in (
        ("Public reindex", ["--public", "--for", "1h"]),
        ("Private reindex", ["--for", "1h"]),
    ):
        added = runner.invoke(
            app,
            [
                "maintenance",
                "add",
                "--title",
                title,
                "--services",
                "search",
                *flag,
                "-c",
                str(path),
            ],
        )
        assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["maintenance", "list", "--json", "-c", str(path)])
    assert {w["title"]: w["public"] for w in json.loads(listed.output)} == {
        "Public reindex": True,
        "Private reindex": False,
    }
    loaded = load(path)
    engine = make_engine(store_url)
    try:
        with session_scope(sessionmaker(engine)) as session:
            assert seed(session, loaded.config, datetime.now(UTC)) == 1  # as the worker starts
    finally:
        engine.dispose()
    words = ["incident", "open", "--severity", "SEV-3", "--service", "search", "--public"]
    opened = runner.invoke(app, [*words, "--title", "Search is slow", "-c", str(path)])
    assert opened.exit_code == 0, opened.output
    text = runner.invoke(app, ["status", "show", "-c", str(path)])
    assert text.exit_code == 0, text.output
    assert "Search is slow" in text.output
    assert "maintenance: Public reindex (in progress)" in text.output
    shown = runner.invoke(app, ["status", "show", "--json", "-c", str(path)])
    assert shown.exit_code == 0, shown.output
    summary = json.loads(shown.output)
    names = [m["name"] for m in summary["scheduled_maintenances"]]
    assert names == ["Public reindex", "Seeded upgrade"]
    # The incident's declared impact (SEV-3: minor) overrides the maintenance.
    statuses = {c["id"]: c["status"] for c in summary["components"]}
    assert statuses["search"] == "degraded_performance"
    assert [i["name"] for i in summary["incidents"]] == ["Search is slow"]
