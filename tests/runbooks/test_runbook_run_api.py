"""Runs under /api/v1/runbooks (in the OpenAPI document), and the runbook page showing the
steps' last outputs for an incident to a signed-in operator only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.support.browser import shot
from tests.support.console import CONSOLE, PASSWORD, give_passwords, sign_in
from tests.support.runbooks import NOW, SHELL_ON, declare, runbook_yaml, shop_pg, tools_folder
from tests.support.web import make_token

from tocsin import actions
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.db import session_scope
from tocsin.runbooks.service import catalog
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

__all__ = ["PASSWORD", "shop_pg", "shot"]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
def config(shop_pg: str, tmp_path: Path) -> TocsinConfig:
    text = runbook_yaml(shop_pg, SHELL_ON, tools_folder(tmp_path)).replace("users:\n", "")
    text = text.replace("  ana: {email: ana@example.com}\n  bo: {email: bo@example.com}\n", "")
    found, _ = parse(CONSOLE + text, "test.yaml", env={})
    return found


@pytest.fixture
def client(factory: sessionmaker[Session], clock: VirtualClock, config: TocsinConfig) -> TestClient:
    return TestClient(create_app(Settings(config, factory, clock)))


def test_runs_are_asked_for_listed_and_approved_through_the_api(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock, config: TocsinConfig
) -> None:
    incident = declare(factory, config, clock, commander="bo")
    token = {"Authorization": f"Bearer {make_token(factory, clock, 'ops', 'read,write')}"}
    answer = client.post(
        "/api/v1/runbooks/tools/runs",
        json={"incident": incident, "step": 2, "params": {"NAME": "Ana"}},
        headers=token,
    )
    assert answer.status_code == 201, answer.text
    [queued] = answer.json()
    assert queued["state"] == "queued"
    assert queued["params"] == {"name": "Ana"}
    actions.runbooks.run_due(factory, config, clock, "w1")
    shown = client.get(f"/api/v1/runbooks/runs/{queued['id']}", headers=token).json()
    assert shown["state"] == "succeeded"
    assert shown["output"] == "hello Ana\n"
    listed = client.get(f"/api/v1/runbooks/tools/runs?incident={incident}", headers=token)
    assert [r["id"] for r in listed.json()] == [queued["id"]]
    write = client.post(
        "/api/v1/runbooks/tools/runs",
        json={"incident": incident, "step": 7, "params": {"order_id": "2"}},
        headers=token,
    ).json()[0]
    refused = client.post(
        f"/api/v1/runbooks/runs/{write['id']}/approve", json={"by": "ana"}, headers=token
    )
    assert refused.status_code == 409
    assert "commander (bo)" in refused.text
    approved = client.post(
        f"/api/v1/runbooks/runs/{write['id']}/approve", json={"by": "bo"}, headers=token
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == "bo"
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/runbooks/{runbook_id}/runs",
        "/api/v1/runbooks/runs/{run_id}",
        "/api/v1/runbooks/runs/{run_id}/approve",
    ):
        assert path in paths


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"step": 2}, 400, "parameter ${NAME} is not filled"),
        ({"step": 2, "params": {"name": "a;b"}}, 400, "shell metacharacter"),
        ({"step": 2, "all": True}, 400, "exactly one of step, all, verification"),
        ({"step": 99}, 400, "has no step 99"),
        ({"step": 2, "nope": 1}, 400, "nope"),
        ({"step": 2, "incident": "INC-2000-01-01-001"}, 404, "INC-2000-01-01-001"),
    ],
)
def test_bad_requests_name_the_field_and_change_nothing(
    client: TestClient,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    config: TocsinConfig,
    body: dict[str, object],
    status: int,
    says: str,
) -> None:
    incident = declare(factory, config, clock)
    token = {"Authorization": f"Bearer {make_token(factory, clock, 'ops', 'read,write')}"}
    answer = client.post(
        "/api/v1/runbooks/tools/runs", json={"incident": incident, **body}, headers=token
    )
    assert answer.status_code == status, answer.text
    assert says in answer.text
    listed = client.get(f"/api/v1/runbooks/tools/runs?incident={incident}", headers=token)
    assert listed.json() == []


def test_the_page_shows_the_last_outputs_to_a_signed_in_operator_only(
    client: TestClient, factory: sessionmaker[Session], clock: VirtualClock, config: TocsinConfig
) -> None:
    incident = declare(factory, config, clock)
    token = {"Authorization": f"Bearer {make_token(factory, clock, 'ops', 'read,write')}"}
    client.post(
        "/api/v1/runbooks/tools/runs",
        json={"incident": incident, "step": 2, "params": {"name": "Ana Lima"}},
        headers=token,
    )
    client.post(
        "/api/v1/runbooks/tools/runs", json={"incident": incident, "step": 1}, headers=token
    )
    actions.runbooks.run_due(factory, config, clock, "w1")
    anonymous = client.get(f"/runbooks/tools?incident={incident}")
    assert anonymous.status_code == 200
    assert "sign in</a> to see them" in anonymous.text
    assert "hello Ana Lima" not in anonymous.text
    give_passwords(factory, clock, config)
    assert sign_in(client, "cy") == 303
    page = client.get(f"/runbooks/tools?incident={incident}")
    assert "Last outputs for " + incident in page.text
    assert "succeeded" in page.text
    assert "hello Ana Lima" in page.text
    assert "orders" in page.text
    assert "test <code>orders &gt; 0</code>: holds" in page.text
    bad = client.get("/runbooks/tools?incident=<script>")
    assert bad.status_code in (400, 422)
    assert "incident" in bad.text
    assert "<script>" not in bad.text


def test_the_checklist_is_ticked_by_verification_blocks_that_pass(
    client: TestClient,
    factory: sessionmaker[Session],
    clock: VirtualClock,
    config: TocsinConfig,
    shop_pg: str,
    tmp_path: Path,
) -> None:
    folder = tools_folder(tmp_path)
    text = (folder / "tools.md").read_text()
    (folder / "tools.md").write_text(
        text.replace(
            "- [ ] Orders counted\n",
            '- [ ] Orders counted\n  ```sql {"test": "n > 0"}\n'
            "  SELECT COUNT(*) AS n FROM orders\n  ```\n- [ ] Customers told\n",
        )
    )
    incident = declare(factory, config, clock)
    token = {"Authorization": f"Bearer {make_token(factory, clock, 'ops', 'read,write')}"}
    answer = client.post(
        "/api/v1/runbooks/tools/runs",
        json={"incident": incident, "verification": True},
        headers=token,
    )
    assert answer.status_code == 201, answer.text
    actions.runbooks.run_due(factory, config, clock, "w1")
    give_passwords(factory, clock, config)
    assert sign_in(client, "cy") == 303
    page = client.get(f"/runbooks/tools?incident={incident}").text
    assert "☑ Orders counted" in page
    assert "☐ Customers told" in page
    with session_scope(factory) as s:
        book = catalog(config.runbooks.path).get("tools")
        actions.runbooks.tick(s, book, incident, 2, "bo", clock.now())
    page = client.get(f"/runbooks/tools?incident={incident}").text
    assert "☑ Customers told" in page
    assert "ticked by bo" in page
