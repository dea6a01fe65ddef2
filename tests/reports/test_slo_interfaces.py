"""`tocsin slo list|show [--json]` and `GET /api/v1/slos[/NAME]` show the same budget; an
unknown SLO is named with the known ones."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.slos import SLO_CONFIG, outage
from tests.support.web import make_token
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.cli import slos as slo_cli
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.pipeline import Pipeline
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

runner = CliRunner()


@pytest.fixture
def config_path(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\n' + SLO_CONFIG)
    return path


@pytest.fixture(autouse=True)
def virtual_now(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    monkeypatch.setattr(slo_cli, "clock", clock)


def test_the_cli_and_the_api_show_the_same_budget(
    config_path: Path, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config, _ = parse(config_path.read_text(), "tocsin.yaml", env={})
    now = clock.now()
    outage(factory, Pipeline(config), now - timedelta(days=1), now - timedelta(days=1, minutes=-30))
    listed = runner.invoke(app, ["slo", "list", "--json", "-c", str(config_path)])
    assert listed.exit_code == 0, listed.output
    by_name = {d["name"]: d for d in json.loads(listed.output)}
    availability = by_name["checkout-availability"]
    assert availability["bad"] == 30 * 60
    assert availability["status"] == "Within Budget"  # 30 of 43.2 minutes spent
    table = runner.invoke(app, ["slo", "list", "-c", str(config_path)])
    assert table.exit_code == 0, table.output
    assert "Within" in table.output
    shown = runner.invoke(app, ["slo", "show", "checkout-availability", "-c", str(config_path)])
    assert shown.exit_code == 0, shown.output
    assert "1h/5m" in shown.output
    assert "error budget" in shown.output

    client = TestClient(create_app(Settings(config, factory, clock)))
    auth = {"Authorization": f"Bearer {make_token(factory, clock, 'reader', 'read')}"}
    api = client.get("/api/v1/slos/checkout-availability", headers=auth)
    assert api.status_code == 200, api.text
    assert api.json()["budget_remaining_percent"] == availability["budget_remaining_percent"]
    assert len(client.get("/api/v1/slos", headers=auth).json()) == 3
    missing = client.get("/api/v1/slos/nope", headers=auth)
    assert missing.status_code == 404
    assert "known: checkout-availability, checkout-latency, checkout-month" in missing.text
    assert client.get("/api/v1/slos?colour=red", headers=auth).status_code == 400
    assert client.get("/api/v1/slos").status_code == 401


def test_an_unknown_slo_is_named_with_the_known_ones(config_path: Path) -> None:
    shown = runner.invoke(app, ["slo", "show", "nope", "-c", str(config_path)])
    assert shown.exit_code == 1
    assert "no SLO named 'nope' (known: checkout-availability" in shown.output
    assert "Traceback" not in shown.output
