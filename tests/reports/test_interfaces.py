"""`tocsin report list|run|show` and `/api/v1/reports`: a run by hand is stored and shown the
same way by the CLI and the API; bad input is a 4xx naming the parameter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.shop import ValueTable
from tests.support.web import make_token
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.cli import reports as report_cli
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

runner = CliRunner()


@pytest.fixture
def config_path(tmp_path: Path, store_url: str) -> Path:
    shop = ValueTable(tmp_path / "shop.db")
    shop.set("failure_rate", 12)
    text = f"""
store: {{url: "{store_url}"}}
sources: {{shop: {{type: sql, url: "{shop.url}"}}}}
channels: {{console: {{type: console}}}}
reports:
  daily:
    title: Daily health check
    schedule: {{cron: "0 9 * * *", timezone: America/New_York}}
    channels: [console]
    mention: "@oncall"
    sections:
      - type: query
        title: Metrics
        source: shop
        query: SELECT name, value FROM metric
        thresholds: {{critical: "value > 10"}}
      - {{type: figures, window: 7d}}
"""
    path = tmp_path / "tocsin.yaml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def virtual_now(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    monkeypatch.setattr(report_cli, "clock", clock)


def test_a_run_by_hand_is_stored_shown_and_listed(
    config_path: Path, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    ran = runner.invoke(
        app,
        ["report", "run", "daily", "--at", "2026-11-16T09:00", "--json", "-c", str(config_path)],
    )
    assert ran.exit_code == 3, ran.output  # needs attention
    report = json.loads(ran.output)
    assert report["status"] == "needs_attention"
    assert report["at"] == "2026-11-16T14:00:00+00:00"  # 09:00 in the schedule's zone
    run_id = report["id"]
    shown = runner.invoke(app, ["report", "show", str(run_id), "--json", "-c", str(config_path)])
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert detail["trigger"] == "manual"
    assert detail["content"].startswith("# Daily health check — Mon 2026-11-16 09:00 EST")
    assert len(detail["content_hash"]) == 64
    listed = runner.invoke(app, ["report", "list", "--json", "-c", str(config_path)])
    assert json.loads(listed.output)[0]["last_run_id"] == run_id

    config, _ = parse(config_path.read_text(), "tocsin.yaml", env={})
    client = TestClient(create_app(Settings(config, factory, clock)))
    token = make_token(factory, clock, "reader", "read")
    auth = {"Authorization": f"Bearer {token}"}
    (api_report,) = client.get("/api/v1/reports", headers=auth).json()
    assert (api_report["name"], api_report["last_status"]) == ("daily", "needs_attention")
    (run,) = client.get("/api/v1/reports/runs?report=daily", headers=auth).json()
    assert run["id"] == run_id
    api_detail = client.get(f"/api/v1/reports/runs/{run_id}", headers=auth).json()
    assert api_detail["content"] == detail["content"]
    assert api_detail["content_hash"] == detail["content_hash"]
    assert client.get("/api/v1/reports/runs/999999", headers=auth).status_code == 404
    bad = client.get("/api/v1/reports/runs/zero", headers=auth)
    assert bad.status_code == 400
    assert "run_id" in json.dumps(bad.json())
    assert client.get("/api/v1/reports?colour=red", headers=auth).status_code == 400
    assert client.get("/api/v1/reports").status_code == 401


def test_an_unknown_report_is_named_with_the_known_ones(config_path: Path) -> None:
    ran = runner.invoke(app, ["report", "run", "weekly", "-c", str(config_path)])
    assert ran.exit_code == 1
    assert "no report named 'weekly' (known: daily)" in ran.output


def test_show_of_a_missing_run_fails_cleanly(config_path: Path) -> None:
    shown = runner.invoke(app, ["report", "show", "42", "-c", str(config_path)])
    assert shown.exit_code == 1
    assert "report run 42 does not exist" in shown.output
    assert "Traceback" not in shown.output


def test_a_run_asked_for_through_the_api_is_stored_and_posted(
    config_path: Path, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    config, _ = parse(config_path.read_text(), "tocsin.yaml", env={})
    client = TestClient(create_app(Settings(config, factory, clock)))
    writer = {"Authorization": f"Bearer {make_token(factory, clock, 'writer', 'write')}"}
    reader = {"Authorization": f"Bearer {make_token(factory, clock, 'reader', 'read')}"}
    url = "/api/v1/reports/daily/runs"
    assert client.post(url, json={}, headers=reader).status_code == 403
    made = client.post(url, json={"post": True}, headers=writer)
    assert made.status_code == 201, made.text
    run = made.json()
    assert (run["trigger"], run["status"], run["posted"]) == ("manual", "needs_attention", 1)
    assert run["content"].startswith("# Daily health check")
    earlier = client.post(url, json={"at": "2026-11-16T09:00:00-05:00"}, headers=writer)
    assert earlier.status_code == 201, earlier.text
    assert earlier.json()["slot_at"].startswith("2026-11-16T14:00:00")
    assert earlier.json()["posted"] == 0
    listed = client.get("/api/v1/reports/runs?report=daily", headers=reader).json()
    assert [r["id"] for r in listed] == [run["id"], earlier.json()["id"]]
    missing = client.post("/api/v1/reports/nope/runs", json={}, headers=writer)
    assert missing.status_code == 404
    assert "known: daily" in missing.text
    for bad, field in (
        ({"colour": "red"}, "colour"),
        ({"at": "2026-11-16T09:00:00"}, "at"),  # no offset
        ({"at": "2999-01-01T00:00:00Z"}, "at"),  # in the future
        ({"post": "maybe"}, "post"),
    ):
        answer = client.post(url, json=bad, headers=writer)
        assert answer.status_code == 400, (bad, answer.text)
        assert field in answer.text
    assert len(client.get("/api/v1/reports/runs", headers=reader).json()) == 2
