"""`tocsin --server URL` against a real Tocsin served on loopback: the operator commands
call its API and print what the same commands print on the machine with the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.console import open_alert
from tests.support.peers import serving
from tests.support.web import make_token
from typer.testing import CliRunner, Result

from tocsin import actions
from tocsin.cli import app
from tocsin.clock import SystemClock, VirtualClock
from tocsin.config import TocsinConfig, parse
from tocsin.console import audit
from tocsin.db import session_scope
from tocsin.web.deps import Settings

CLOCK = SystemClock()


@dataclass
class Both:
    """Run a command locally (`-c` the store's configuration) and remotely (`--server`)."""

    path: str
    url: str
    token: str
    config: TocsinConfig

    def local(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "-c", self.path])

    def remote(self, *args: str, token: str | None = None) -> Result:
        auth = ["--token", token if token is not None else self.token]
        return CliRunner().invoke(app, ["--server", self.url, *auth, *args])


@pytest.fixture
def both(
    tmp_path: Path, store_url: str, factory: sessionmaker[Session], clock: VirtualClock
) -> Iterator[Both]:
    path = tmp_path / "tocsin.yaml"
    path.write_text(
        f'store: {{url: "{store_url}"}}\npublic_url: http://127.0.0.1\n'
        "api: {rate_limit: 1000, rate_burst: 1000}\n"
        "channels:\n  console: {type: console}\nusers:\n  ana: {role: admin}\n"
    )
    config, _ = parse(path.read_text(), str(path), env={})
    token = make_token(factory, clock, "laptop", "write")
    with serving(Settings(config, factory, CLOCK)) as url:
        yield Both(str(path), url, token, config)


def same_json(both: Both, *args: str) -> object:
    here, there = both.local(*args, "--json"), both.remote(*args, "--json")
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    assert json.loads(there.output) == json.loads(here.output)
    return json.loads(here.output)


def test_alerts_list_ack_and_resolve_through_the_api(
    both: Both, factory: sessionmaker[Session]
) -> None:
    first = open_alert(factory, CLOCK, both.config, "r1", service="db")
    second = open_alert(factory, CLOCK, both.config, "r2", service="web")
    rows = same_json(both, "alerts", "list")
    assert [r["id"] for r in rows] == [second, first]  # type: ignore[index]
    assert rows[0]["started_at"].endswith("Z")  # type: ignore[index]
    assert both.local("alerts", "list").output == both.remote("alerts", "list").output
    done = both.remote("alerts", "ack", str(first), "--by", "ana", "--note", "on it")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"alert {first} acknowledged by ana"
    done = both.remote("alerts", "resolve", str(second), "--by", "ana")
    assert done.exit_code == 0, done.output
    listed = same_json(both, "alerts", "list", "--state", "acknowledged")
    assert [(r["id"], r["acknowledged_by"]) for r in listed] == [(first, "ana")]  # type: ignore[index]
    with session_scope(factory) as s:
        trail = [(r.actor, r.action, r.interface) for r in audit.list_(s)][::-1]
    assert trail == [("laptop", "alert.ack", "api"), ("laptop", "alert.resolve", "api")]
    refused = both.remote("audit", "list")
    assert refused.exit_code == 1
    assert "answered 403" in refused.output  # the audit log needs the admin scope
    admin = make_token(factory, CLOCK, "auditor", "admin")
    here = both.local("audit", "list", "--json")
    there = both.remote("audit", "list", "--json", token=admin)
    assert json.loads(there.output) == json.loads(here.output)
    again = both.remote("alerts", "ack", str(first), "--by", "ana")
    assert again.exit_code == 1
    assert "answered 409" in again.output


def test_silences_add_list_and_expire_through_the_api(
    both: Both, factory: sessionmaker[Session]
) -> None:
    made = both.remote("silence", "add", 'service="db"', "--comment", "upgrade", "--for", "2h")
    assert made.exit_code == 0, made.output
    silence_id = made.output.strip()
    rows = same_json(both, "silence", "list")
    assert [(r["id"], r["matchers"]) for r in rows] == [(silence_id, ['service="db"'])]  # type: ignore[index]
    assert both.local("silence", "list").output == both.remote("silence", "list").output
    gone = both.remote("silence", "expire", silence_id)
    assert gone.exit_code == 0, gone.output
    assert same_json(both, "silence", "list") == []
    assert len(same_json(both, "silence", "list", "--all")) == 1  # type: ignore[arg-type]
    bad = both.remote("silence", "add", "service=", "--comment", "x", "--for", "1h")
    assert bad.exit_code == 1
    assert "answered 400" in bad.output


def test_maintenance_windows_and_known_issues_through_the_api(both: Both) -> None:
    made = both.remote(
        "maintenance", "add", "--title", "DB upgrade", "--services", "db,cache", "--for", "2h"
    )
    assert made.exit_code == 0, made.output
    window_id = made.output.strip()
    rows = same_json(both, "maintenance", "list")
    assert [(r["id"], r["services"]) for r in rows] == [(window_id, ["cache", "db"])]  # type: ignore[index]
    assert both.local("maintenance", "list").output == both.remote("maintenance", "list").output
    ended = both.remote("maintenance", "end", window_id)
    assert ended.exit_code == 0, ended.output
    assert same_json(both, "maintenance", "list") == []
    made = both.remote(
        "known-issue", "add", "PRINT-1", "--reason", "jammed", "--match", 'service="printer"'
    )
    assert made.exit_code == 0, made.output
    assert made.output.startswith("known issue PRINT-1 until ")
    rows = same_json(both, "known-issue", "list")
    assert [(r["id"], r["matchers"]) for r in rows] == [("PRINT-1", ['service="printer"'])]  # type: ignore[index]
    again = both.remote("known-issue", "add", "PRINT-1", "--reason", "x", "--match", "a=b")
    assert again.exit_code == 1
    assert "answered 409" in again.output
    gone = both.remote("known-issue", "expire", "PRINT-1")
    assert gone.exit_code == 0, gone.output
    assert same_json(both, "known-issue", "list") == []


def test_incidents_list_and_show_through_the_api(
    both: Both, factory: sessionmaker[Session]
) -> None:
    new = actions.incidents.NewIncident(title="DB down", severity="SEV-1")
    with session_scope(factory) as s:
        incident_id = actions.incidents.declare(
            s, actions.alerts.Pipeline(both.config), new, "ana", CLOCK.now()
        ).id
    rows = same_json(both, "incident", "list")
    assert [r["id"] for r in rows] == [incident_id]  # type: ignore[index]
    shown = same_json(both, "incident", "show", incident_id)
    assert shown["title"] == "DB down"  # type: ignore[index]
    assert both.local("incident", "show", incident_id).output == (
        both.remote("incident", "show", incident_id).output
    )
    missing = both.remote("incident", "show", "INC-2020-01-01-001")
    assert missing.exit_code == 1
    assert "answered 404" in missing.output


def test_a_bad_token_an_unreachable_server_and_local_only_commands_are_clear(
    both: Both, closed_port: int
) -> None:
    refused = both.remote("alerts", "list", token="not-a-token")
    assert refused.exit_code == 1
    assert "answered 401" in refused.output
    gone = CliRunner().invoke(
        app, ["--server", f"http://127.0.0.1:{closed_port}", "alerts", "list"]
    )
    assert gone.exit_code == 1
    assert "cannot reach" in gone.output
    for args in (["oncall", "who"], ["incident", "open", "--title", "x"]):
        answer = both.remote(*args)
        assert answer.exit_code == 1, args
        assert "does not work with --server yet" in answer.output
    bad = CliRunner().invoke(app, ["--server", "ftp://x", "alerts", "list"])
    assert bad.exit_code == 1
    assert "is not an http(s) URL" in bad.output
