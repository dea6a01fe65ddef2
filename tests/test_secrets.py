"""Secrets never leak: one is planted in every place a user can put one — configuration
literals, `${VAR}`s, source URLs (userinfo, query), channel URLs, routing keys, headers, the
store URL — and the services Tocsin talks to echo every request back in their error bodies.
After `tocsin run -v` has evaluated the checks and tried the channels, none of the secrets is
in the captured log, in any row of any table, in any answer of the API, or in what the CLI
prints."""

from __future__ import annotations

import logging
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from tests.support.loopback import Answer, Loopback
from typer.testing import CliRunner

from tocsin import config as configuration
from tocsin.cli import app as cli
from tocsin.clock import SystemClock
from tocsin.db import make_sessionmaker, session_scope
from tocsin.models import Alert, Base
from tocsin.tokens import service as tokens
from tocsin.web.app import create_app
from tocsin.web.deps import Settings

SECRETS = {
    "probe password": "pr0be-pa55word",
    "probe api key": "pr0be-ap1-key-0001",
    "echo query token": "ech0-query-t0ken",
    "echo header (${VAR})": "ech0-header-v4lue",
    "prometheus password": "pr0m-pa55word",
    "prometheus token": "pr0m-access-t0ken",
    "database password (${VAR})": "db-pa55w0rd-x",
    "discord token (${VAR})": "D1sc0rdT0kenAbcdefGHIJklmnopQRSTuvwx",
    "slack token": "Sl4ckT0kenAbcdefGHIJklmn",
    "pagerduty routing key": "R0utingKey0123456789abcdef01234",
    "twilio auth token (${VAR})": "tw1l10-auth-t0ken",
    "webhook query signature": "h00k-query-s1g",
    "webhook hmac secret": "h00k-hmac-s3cret",
    "webhook bearer header": "h00k-bearer-t0ken",
    "smtp password": "smtp-pa55w0rd",
    "acknowledge link key": "s1gning-key-0123456789-abcdefghijklmnop",
    "store password": "st0re-pa55w0rd",
}
S = SECRETS


@pytest.fixture
def probed() -> Iterator[Loopback]:
    """An endpoint an HTTP check probes: 200, echoing the request (its headers too)."""
    server = Loopback()
    server.answer = Answer(200, b"hello ", echo=True)
    yield server
    server.stop()


@pytest.fixture
def services() -> Iterator[Loopback]:
    """Discord, Slack, PagerDuty, Twilio and a webhook receiver in one: every request is
    refused with a body that echoes it, credentials and all."""
    server = Loopback()
    server.answer = Answer(400, b"bad request: ", echo=True)
    yield server
    server.stop()


def config_text(store_file: str, probed: str, services: str, closed: int) -> str:
    api = f"http://probe:{S['probe password']}@127.0.0.1:{closed}/health"
    prom = f"http://prom:{S['prometheus password']}@127.0.0.1:{closed}/"
    slack = f"{services}/services/T0SLACK01/B0SLACK02/{S['slack token']}"
    return f"""
public_url: https://tocsin.example
secret_key: "{S["acknowledge link key"]}"
store: {{url: "{store_file}"}}
sources:
  api: {{type: http, url: "{api}?api_key={S["probe api key"]}"}}
  echo: {{type: http, url: "{probed}/status?token={S["echo query token"]}",
         headers: {{X-Api-Key: "${{ECHO_HEADER}}"}}}}
  prom: {{type: prometheus, url: "{prom}?access_token={S["prometheus token"]}"}}
  db: {{type: sql, url: "${{DB_URL}}"}}
channels:
  discord: {{type: discord, url: "${{DISCORD_URL}}", timeout: 2s}}
  slack: {{type: slack, url: "{slack}", timeout: 2s}}
  pager: {{type: pagerduty, routing_key: "{S["pagerduty routing key"]}",
          url: "{services}/v2/enqueue", timeout: 2s}}
  sms: {{type: twilio, account_sid: AC0123, auth_token: "${{TWILIO_TOKEN}}",
        from_number: "+15550000000", to: ["+15550100001"], url: "{services}", timeout: 2s}}
  hook: {{type: webhook, url: "{services}/hook?sig={S["webhook query signature"]}",
         secret: "{S["webhook hmac secret"]}", timeout: 2s,
         headers: {{Authorization: "Bearer {S["webhook bearer header"]}"}}}}
  mail: {{type: email, host: 127.0.0.1, port: {closed}, security: none, username: ops,
         password: "{S["smtp password"]}", from_address: tocsin@example.com,
         to: [ops@example.com], timeout: 2s}}
routes: {{notify: [discord, slack, pager, sms, hook, mail]}}
checks:
  - {{name: api_up, source: api, schedule: {{every: 1m}},
     conditions: [{{when: "status != 200", severity: HIGH}}]}}
  - {{name: echo_seen, source: echo, schedule: {{every: 1m}},
     message: "the probe said {{{{ body }}}}",
     conditions: [{{when: "status == 200", severity: WARNING}}]}}
  - {{name: prom_up, source: prom, schedule: {{every: 1m}}, query: up,
     conditions: [{{when: "< 1", severity: HIGH}}]}}
  - {{name: db_up, source: db, schedule: {{every: 1m}}, query: SELECT 1 AS value,
     conditions: [{{when: "< 1", severity: HIGH}}]}}
"""


def leaks(where: str, text_seen: str) -> list[str]:
    return [f"{name} in {where}" for name, value in SECRETS.items() if value in text_seen]


def dump_store(engine: Engine) -> str:
    """Every row of every table, as text."""
    lines: list[str] = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            lines += [f"{table.name}: {tuple(row)}" for row in conn.execute(select(table))]
    return "\n".join(lines)


def api_answers(config: configuration.TocsinConfig, engine: Engine) -> str:
    """The answer of every GET the API serves (each alert and check where the path names
    one), and of a dry run of each check."""
    factory = make_sessionmaker(engine)
    clock = SystemClock()
    with session_scope(factory) as session:
        _, token = tokens.create(session, "ops", tokens.parse_scopes("admin"), clock.now())
        alert_ids = [str(i) for i in session.scalars(select(Alert.id))]
    names = [check.name for check in config.checks]
    values = {"alert_id": alert_ids, "name": names}
    answers: list[str] = []
    app = create_app(Settings(config, factory, clock))
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        document = client.get("/api/v1/openapi.json").json()
        for route, operations in document["paths"].items():
            params = re.findall(r"{(\w+)}", route)
            if "get" not in operations or any(p not in values for p in params):
                continue  # a runbook page, an acknowledge link: nothing of ours in them
            paths = [route]
            for param in params:
                paths = [p.replace(f"{{{param}}}", v) for p in paths for v in values[param]]
            for path in paths:
                answer = client.get(path)
                assert answer.status_code != 500, (path, answer.text)  # /readyz: 503
                answers.append(f"GET {path}: {answer.text}")
        for name in names:
            answer = client.post(f"/api/v1/checks/{name}/run")
            answers.append(f"POST run {name}: {answer.text}")
    return "\n".join(answers)


def test_no_secret_reaches_a_log_a_row_an_api_answer_or_the_cli(
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    probed: Loopback,
    services: Loopback,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":  # trust authentication ignores the password
        store_url = url.set(password=S["store password"]).render_as_string(hide_password=False)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", store_url)  # the environment wins over the file
    monkeypatch.setenv("ECHO_HEADER", S["echo header (${VAR})"])
    db = f"postgresql://tocsin:{S['database password (${VAR})']}@127.0.0.1:{closed_port}/shop"
    monkeypatch.setenv("DB_URL", db)
    discord = f"{services.url}/api/webhooks/123456789012345678/{S['discord token (${VAR})']}"
    monkeypatch.setenv("DISCORD_URL", discord)
    monkeypatch.setenv("TWILIO_TOKEN", S["twilio auth token (${VAR})"])
    path = tmp_path / "tocsin.yaml"
    text_ = config_text("sqlite:///elsewhere.db", probed.url, services.url, closed_port)
    path.write_text(text_)
    caplog.set_level(logging.DEBUG)

    runner = CliRunner()
    outputs: list[str] = []

    def run(*args: str) -> str:
        result = runner.invoke(cli, [*args, "-c", str(path)])
        outputs.append(f"$ tocsin {' '.join(args)}\n{result.output}")
        return result.output

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(2):  # the second run sends what the first one's failures raised
            run("run", "--once", "-v")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    shown = run("config", "show")
    run("config", "validate")  # connects to the SQL source to look at its role
    alert_ids = [line.split()[0] for line in run("alerts", "list").splitlines()[1:]]
    run("alerts", "list", "--json")
    for alert_id in alert_ids:
        if alert_id.isdigit():
            run("alerts", "show", alert_id)
            run("alerts", "show", alert_id, "--json")
    for name in ("api_up", "echo_seen", "prom_up", "db_up"):
        run("check", "run", name)
        run("check", "run", name, "--json")

    loaded = configuration.load(path)
    store = dump_store(engine)
    api = api_answers(loaded.config, engine)
    cli_output = "\n".join(outputs)

    # What was planted was used: the checks ran, the channels were tried, and got echoes.
    assert "cannot run (unreachable)" in store
    assert "the probe said hello" in store
    assert {r.path.split("/")[1] for r in services.requests} >= {"api", "services", "v2", "hook"}
    assert any(S["pagerduty routing key"].encode() in r.body for r in services.requests)
    assert "tocsin.egress" in {record.name for record in caplog.records}
    assert "bad request: POST /" in store  # a channel's refusal, echo and all, in last_error
    # The store URL in effect is shown, masked.
    assert make_url(store_url).render_as_string(hide_password=True).replace("***", "****") in shown
    found = (
        leaks("the log at -v", caplog.text)
        + leaks("the store", store)
        + leaks("the API", api)
        + leaks("the CLI", cli_output)
    )
    assert found == []
