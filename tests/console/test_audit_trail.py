"""Actions through the API, acknowledge links and the CLI's token commands are audit rows:
who (the token's name, the name typed on the link's page, the OS account), what, from
which address, through which interface."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import open_alert
from tests.support.web import make_token
from typer.testing import CliRunner

from tocsin import acklinks
from tocsin.cli import app
from tocsin.clock import VirtualClock
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.web.deps import Settings


def rows(factory: sessionmaker[Session]) -> list[tuple[str, str, str | None, str]]:
    with session_scope(factory) as s:
        return [(r.actor, r.action, r.target, r.interface) for r in audit.list_(s)][::-1]


def test_api_actions_are_audited_with_the_tokens_name_and_address(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(factory, clock, settings.config, "api", service="db")
    auth = {"Authorization": f"Bearer {make_token(factory, clock, 'laptop', 'write')}"}
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=auth).status_code == 200
    body = {"matchers": ['service="db"'], "for": "1h", "comment": "upgrade"}
    made = client.post("/api/v1/silences", json=body, headers=auth)
    assert made.status_code == 201, made.text
    silence_id = made.json()["id"]
    assert client.delete(f"/api/v1/silences/{silence_id}", headers=auth).status_code == 200
    incident = client.post(
        "/api/v1/incidents", json={"title": "DB down", "severity": "SEV-2"}, headers=auth
    )
    assert incident.status_code == 201, incident.text
    incident_id = incident.json()["id"]
    update = {"message": "failing over", "status": "identified"}
    assert (
        client.post(f"/api/v1/incidents/{incident_id}/updates", json=update, headers=auth)
    ).status_code == 201
    assert rows(factory) == [
        ("laptop", "alert.ack", f"alert {alert_id}", "api"),
        ("laptop", "silence.create", f"silence {silence_id}", "api"),
        ("laptop", "silence.expire", f"silence {silence_id}", "api"),
        ("laptop", "incident.declare", f"incident {incident_id}", "api"),
        ("laptop", "incident.update", f"incident {incident_id}", "api"),
    ]
    with session_scope(factory) as s:
        assert {r.address for r in audit.list_(s)} == {"testclient"}


def test_a_refused_api_action_leaves_no_audit_row(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    auth = {"Authorization": f"Bearer {make_token(factory, clock, 'laptop', 'write')}"}
    assert client.post("/api/v1/alerts/999/ack", headers=auth).status_code == 404
    reader = {"Authorization": f"Bearer {make_token(factory, clock, 'wall', 'read')}"}
    alert_id = open_alert(factory, clock, settings.config, "ro")
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=reader).status_code == 403
    assert rows(factory) == []


def test_an_acknowledge_link_is_audited_as_the_link(
    client: TestClient, settings: Settings, factory: sessionmaker[Session], clock: VirtualClock
) -> None:
    alert_id = open_alert(factory, clock, settings.config, "link")
    with session_scope(factory) as s:
        url = acklinks.link(s, settings.config, alert_id, clock.now())
    path = url.removeprefix(settings.config.public_url)
    answer = client.post(path, data={"by": "bo on the train"})
    assert answer.status_code == 200, answer.text
    assert rows(factory) == [("bo on the train", "alert.ack", f"alert {alert_id}", "link")]


def test_token_create_and_revoke_are_audited(
    tmp_path: Path, store_url: str, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\n')
    runner = CliRunner()
    made = runner.invoke(app, ["token", "create", "ci", "--scope", "write", "-c", str(path)])
    assert made.exit_code == 0, made.output
    gone = runner.invoke(app, ["token", "revoke", "ci", "-c", str(path)])
    assert gone.exit_code == 0, gone.output
    listed = runner.invoke(app, ["audit", "list", "--json", "-c", str(path)])
    found = [(r["action"], r["target"], r["interface"]) for r in json.loads(listed.output)]
    assert found == [("token.revoke", "token ci", "cli"), ("token.create", "token ci", "cli")]
    assert made.output.split()[0] not in listed.output  # the token itself is never a row
