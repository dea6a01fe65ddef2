"""`tocsin heartbeat list|show`: each heartbeat's ping URL from the CLI, its pings, and a
missed ping of a short period told to the second."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tocsin.alerts.models import Alert
from tocsin.cli import app
from tocsin.cli import heartbeats as heartbeat_cli
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.heartbeats import service as heartbeats
from tocsin.pipeline import Pipeline

runner = CliRunner()
KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
HEARTBEATS = f"""
public_url: https://tocsin.example/
channels: {{console: {{type: console}}}}
heartbeats:
  - {{name: queue, uuid: "{KEY}", every: 30s, grace: 10s}}
  - {{name: nightly, cron: "0 3 * * *", timezone: America/New_York, grace: 30m}}
"""


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> tuple[str, TocsinConfig]:
    text = f'store: {{url: "{store_url}"}}\n' + HEARTBEATS
    path = tmp_path / "tocsin.yaml"
    path.write_text(text)
    return str(path), parse(text, "tocsin.yaml", env={})[0]


@pytest.fixture(autouse=True)
def virtual_now(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    monkeypatch.setattr(heartbeat_cli, "clock", clock)


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_configured_heartbeats_are_listed_before_tocsin_run_writes_them(
    config: tuple[str, TocsinConfig],
) -> None:
    path, _ = config
    rows = {r["name"]: r for r in json.loads(cli("heartbeat", "list", "-c", path, "--json"))}
    assert rows["queue"]["status"] == "not started"
    assert rows["queue"]["ping_url"] == f"https://tocsin.example/ping/{KEY}"  # fixed key
    assert rows["nightly"]["ping_url"] is None  # generated when `tocsin run` starts
    assert rows["nightly"]["schedule"] == "cron '0 3 * * *' America/New_York, grace 30m"
    assert "nightly  none yet: `tocsin run` creates it\n" in cli("heartbeat", "list", "-c", path)


def test_list_and_show_give_each_ping_url_and_the_recent_pings(
    config: tuple[str, TocsinConfig], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    path, cfg = config
    beats = {b.name: b for b in cfg.heartbeats}
    with session_scope(factory) as session:
        heartbeats.sync(session, cfg.heartbeats, clock.now())
    with session_scope(factory) as session:
        nightly = next(h.uuid for h in heartbeats.list_(session) if h.name == "nightly")
        heartbeats.ping(session, beats, KEY, "start", clock.now(), Pipeline(cfg))
    clock.advance(timedelta(seconds=12))
    with session_scope(factory) as session:
        heartbeats.ping(
            session, beats, KEY, "success", clock.now(), Pipeline(cfg), body="sent 42 mails\n"
        )
    rows = {r["name"]: r for r in json.loads(cli("heartbeat", "list", "-c", path, "--json"))}
    assert rows["nightly"]["ping_url"] == f"https://tocsin.example/ping/{nightly}"
    assert (rows["queue"]["status"], rows["queue"]["schedule"]) == ("up", "every 30s, grace 10s")
    assert rows["queue"]["last_duration_s"] == 12.0
    table = cli("heartbeat", "list", "-c", path)
    assert f"https://tocsin.example/ping/{nightly}" in table

    shown = cli("heartbeat", "show", "queue", "-c", path)
    assert f"ping URL: https://tocsin.example/ping/{KEY}\n" in shown
    assert "add /start when the job starts, /fail when it fails, /$? for its exit code" in shown
    assert f"&& curl -fsS -m 10 --retry 5 -o /dev/null https://tocsin.example/ping/{KEY}" in shown
    assert "sent 42 mails" in shown
    data = json.loads(cli("heartbeat", "show", "queue", "-c", path, "--json"))
    assert [p["kind"] for p in data["pings"]] == ["success", "start"]


def test_show_of_an_unknown_heartbeat_names_the_known_ones(
    config: tuple[str, TocsinConfig],
) -> None:
    result = runner.invoke(app, ["heartbeat", "show", "backup", "-c", config[0]])
    assert result.exit_code == 1
    assert "no heartbeat named 'backup' (known: nightly, queue)" in result.output


def test_a_missed_ping_of_a_short_period_says_when_to_the_second(
    config: tuple[str, TocsinConfig], factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    _, cfg = config
    beats = {b.name: b for b in cfg.heartbeats}
    clock.advance(timedelta(seconds=7))
    with session_scope(factory) as session:
        heartbeats.sync(session, cfg.heartbeats, clock.now())
        heartbeats.ping(session, beats, KEY, "success", clock.now(), Pipeline(cfg))
    clock.advance(timedelta(seconds=41))
    with session_scope(factory) as session:
        assert heartbeats.raise_missed(session, beats, clock.now(), Pipeline(cfg)) == 1
        (alert,) = session.scalars(select(Alert)).all()
    assert alert.title == "Heartbeat queue missed its ping"
    assert alert.message == "expected by 2026-11-17 14:00:37 UTC (every 30s, grace 10s)"
