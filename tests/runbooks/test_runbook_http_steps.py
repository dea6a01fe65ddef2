"""http steps go through the one outbound client to a real loopback server: the answer is the
output, `test:` reads its JSON, failures and the egress policy are the step's, and a secret
header never reaches the stored output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.loopback import Answer, Loopback
from tests.support.runbooks import NOW, declare, runbook_config, shop_pg

from tocsin import actions
from tocsin.actions.runbooks import Selection
from tocsin.clock import VirtualClock
from tocsin.db import session_scope
from tocsin.runbooks import runs
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.service import catalog

__all__ = ["shop_pg"]

PROBE = """---
id: probe
title: Probe
severity: HIGH
expected_duration: 5m
params:
  token: {{env: PROBE_TOKEN}}
---
# Probe

## Symptoms/Detection

- The site is slow.

## Resolution Steps

1. Ask the health endpoint
   ```http {{"test": "json.status == 'ok'", "timeout": "5s"}}
   GET {url}/health
   Authorization: Bearer ${{TOKEN}}
   ```

## Verification Steps

- [ ] Healthy

## Escalation Criteria

- Nobody.
"""
TOKEN = "tok-9f8e7d6c5b4a3"


@pytest.fixture
def site() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.stop()


def run(
    factory: sessionmaker[Session], site: Loopback, shop: str, tmp_path: Path, extra: str = ""
) -> RunbookRun:
    folder = tmp_path / "runbooks"
    folder.mkdir(exist_ok=True)
    (folder / "probe.md").write_text(PROBE.format(url=site.url))
    config = runbook_config(shop, extra, folder)
    clock = VirtualClock(NOW)
    incident = declare(factory, config, clock)
    env = {"PROBE_TOKEN": TOKEN}
    with session_scope(factory) as s:
        (row,) = actions.runbooks.request(
            s,
            config,
            catalog(folder).get("probe"),
            Selection(step=1),
            incident_id=incident,
            given={},
            by="ana",
            now=clock.now(),
            environ=env,
        )
        run_id = row.id
    actions.runbooks.run_due(factory, config, clock, "w1", environ=env)
    with session_scope(factory) as s:
        found = runs.get(s, run_id)
        s.expunge(found)
    return found


def test_an_http_step_answers_and_its_test_reads_the_json(
    factory: sessionmaker[Session], site: Loopback, shop_pg: str, tmp_path: Path
) -> None:
    site.json({"status": "ok", "db": "up"})
    row = run(factory, site, shop_pg, tmp_path)
    assert row.state == "succeeded", row.error
    assert row.exit_status == 200
    assert row.tests == [{"test": "json.status == 'ok'", "held": True, "error": None}]
    assert '"db": "up"' in (row.output or "")
    (request,) = site.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_a_server_error_fails_the_step(
    factory: sessionmaker[Session], site: Loopback, shop_pg: str, tmp_path: Path
) -> None:
    site.answer = Answer(status=503, body=b"down for maintenance")
    row = run(factory, site, shop_pg, tmp_path)
    assert row.state == "failed"
    assert row.exit_status == 503
    assert row.error == "the server answered 503"


def test_the_egress_policy_stops_a_step_before_it_sends(
    factory: sessionmaker[Session], site: Loopback, shop_pg: str, tmp_path: Path
) -> None:
    row = run(factory, site, shop_pg, tmp_path, "egress: {deny: [127.0.0.0/8]}")
    assert row.state == "failed"
    assert (row.error or "").startswith("denied:")
    assert site.requests == []


def test_a_secret_the_server_echoes_is_redacted(
    factory: sessionmaker[Session], site: Loopback, shop_pg: str, tmp_path: Path
) -> None:
    site.answer = Answer(status=200, body=b'{"status": "ok"}\n', echo=True)
    row = run(factory, site, shop_pg, tmp_path)
    assert "uthorization" in (row.output or "")
    assert TOKEN not in (row.output or "")
