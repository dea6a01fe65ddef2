"""`tocsin check replay NAME --for 5m`: a check's stored values replayed with another `for`
show the pages it would drop and the incidents it would have missed; bad input is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.slos import outage, samples
from typer.testing import CliRunner

from tocsin import actions
from tocsin.cli import app
from tocsin.cli import checks as check_cli
from tocsin.clock import VirtualClock
from tocsin.config import parse
from tocsin.db import session_scope
from tocsin.incidents.service import NewIncident
from tocsin.pipeline import Pipeline

runner = CliRunner()
START = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
CONFIG = """
sources: {{shop: {{type: sql, url: "sqlite:///unused.db"}}}}
channels: {{console: {{type: console}}}}
store: {{url: "{store}"}}
checks:
  - name: checkout
    source: shop
    schedule: {{every: 1m}}
    query: SELECT 1 AS v
    value: v
    conditions:
      - {{when: "> 10", severity: HIGH, clear: "< 5"}}
  - name: cost
    source: shop
    schedule: {{every: 1m}}
    query: SELECT 1 AS v
    value: v
    baseline: {{compare: ratio, query: "SELECT 1 AS baseline"}}
    conditions: [{{when: "> 2", severity: WARNING}}]
"""


@pytest.fixture
def config_path(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "tocsin.yaml"
    path.write_text(CONFIG.format(store=store_url))
    return path


@pytest.fixture(autouse=True)
def virtual_now(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    clock.set(START + timedelta(days=1))
    monkeypatch.setattr(check_cli, "clock", clock)


def test_a_longer_for_drops_the_blips_and_names_the_incident_it_misses(
    config_path: Path, factory: sessionmaker[Session]
) -> None:
    """One value a minute for 6 hours: two one-minute blips over 10, and a 20-minute episode
    at 12 that dips to 8 once it has fired (its `clear: < 5` holds it). The first blip was
    an incident."""
    values = []
    for m in range(360):
        at = START + m * MIN
        if m in (30, 90):
            v = 15.0
        elif 200 <= m < 220:
            v = 8.0 if m == 212 else 12.0
        else:
            v = 1.0
        values.append((at, v))
    samples(factory, values)
    config, _ = parse(config_path.read_text(), "tocsin.yaml", env={})
    pipeline = Pipeline(config)
    alert_id = outage(factory, pipeline, START + 30 * MIN, START + 31 * MIN)
    with session_scope(factory) as s:
        actions.incidents.declare(
            s,
            pipeline,
            NewIncident(title="Checkout blip", severity="SEV-2"),
            "ana",
            START + 31 * MIN,
            alert_ids=[alert_id],
        )
    ran = runner.invoke(
        app, ["check", "replay", "checkout", "--for", "5m", "--json", "-c", str(config_path)]
    )
    assert ran.exit_code == 0, ran.output
    found = json.loads(ran.output)
    assert (found["values"], found["series"]) == (360, 1)
    assert (found["pages_now"], found["pages_then"], found["pages_dropped"]) == (3, 1, 2)
    assert (found["incidents"], found["incidents_missed"]) == (1, 1)
    shown = runner.invoke(
        app, ["check", "replay", "checkout", "--for", "5m", "-c", str(config_path)]
    )
    assert "3 pages; for 300 s: 1 pages (2 dropped)" in shown.output
    assert "missed with the change: 1" in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "--for", "5m"], "no check named 'nowhere' (known: checkout, cost)"),
        (["checkout", "--for", "soon"], "--for:"),
        (["cost", "--for", "5m"], "cannot be replayed from its values"),
    ],
)
def test_bad_replays_are_named(config_path: Path, args: list[str], message: str) -> None:
    ran = runner.invoke(app, ["check", "replay", *args, "-c", str(config_path)])
    assert ran.exit_code == 1
    assert message in ran.output
    assert "Traceback" not in ran.output
