"""`tocsin incident …` from open to close, with JSON listings and clear refusals."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.incidents import CONFIG, fire
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.cli import incidents as incident_cli
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.pipeline import Pipeline

runner = CliRunner()


@pytest.fixture
def path(tmp_path: Path, store_url: str) -> str:
    file = tmp_path / "tocsin.yaml"
    file.write_text(f'store: {{url: "{store_url}"}}\n' + CONFIG)
    return str(file)


@pytest.fixture(autouse=True)
def virtual_now(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    monkeypatch.setattr(incident_cli, "clock", clock)


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["incident", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_an_incident_from_open_to_close(
    path: str, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    pipeline = Pipeline(parse(CONFIG, "tocsin.yaml", env={})[0])
    alert_id = fire(factory, pipeline, clock, "disk full", severity="WARNING", service="db")
    found = cli(
        "open",
        "--title",
        "Checkout failing",
        "--severity",
        "SEV-1",
        "--service",
        "payments",
        "--declared-at",
        "2026-11-17T13:50:00Z",
        "-c",
        path,
    ).strip()
    assert found == "INC-2026-11-17-001"
    [row] = json.loads(cli("list", "--json", "-c", path))
    assert (row["id"], row["commander_label"], row["status"]) == (
        found,
        "no commander",
        "investigating",
    )
    assert "no commander" in cli("show", found, "-c", path)
    cli("assign", found, "--role", "commander", "--user", "ana", "--by", "ana", "-c", path)
    cli("link", found, "--alert", str(alert_id), "-c", path)
    cli("note", found, "Stripe webhooks return 500", "--by", "ana", "-c", path)
    clock.advance(timedelta(minutes=10))
    cli(
        "update",
        found,
        "--status",
        "identified",
        "--message",
        "Webhook secret rotated",
        "--impact",
        "Orders cannot be placed",
        "--eta",
        "15 minutes",
        "--by",
        "ana",
        "-c",
        path,
    )
    cli("resolve", found, "-c", path)
    assert "before its post-mortem is done" in cli("close", found, "-c", path, code=1)
    assert "## How'd We Do" in cli("postmortem", found, "-c", path)
    cli("postmortem", found, "--done", "-c", path)
    cli("close", found, "-c", path)
    detail = json.loads(cli("show", found, "--json", "-c", path))
    assert detail["commander"] == "ana"
    assert detail["customer_impact"] == "Orders cannot be placed"
    assert [u["message"] for u in detail["updates"]] == ["Webhook secret rotated"]
    assert [e["kind"] for e in detail["timeline"]] == [
        "declared",
        "role_changed",
        "alert_linked",
        "note",
        "status_changed",
        "update_posted",
        "status_changed",
        "postmortem_written",
        "postmortem_written",
        "status_changed",
    ]
    assert json.loads(cli("list", "--status", "open", "--json", "-c", path)) == []


def test_bad_input_is_refused_with_a_clear_message(path: str) -> None:
    assert "incident 'INC-2026-01-01-001' does not exist" in cli(
        "show", "INC-2026-01-01-001", "-c", path, code=1
    )
    assert "severity: 'SEV-7'" in cli(
        "open", "--title", "x", "--severity", "SEV-7", "-c", path, code=1
    )
    found = cli("open", "--title", "Checkout failing", "-c", path).strip()
    assert "cannot go from investigating to closed" in cli("close", found, "-c", path, code=1)
    out = cli("assign", found, "--role", "commander", "--user", "zed", "-c", path, code=1)
    assert "commander: 'zed' is not a configured user" in out
    assert "has no time zone" in cli(
        "open", "--title", "x", "--declared-at", "2026-11-17T10:00", "-c", path, code=1
    )
    [row] = json.loads(cli("list", "--json", "-c", path))
    assert row["commander"] is None
