"""`tocsin runbook exec|approve|runs|check` on a real storefront: outputs printed and on the
timeline, --all stopping at the first failure, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.runbooks import (
    NOW,
    SHELL_ON,
    declare,
    runbook_config,
    runbook_yaml,
    shop_pg,
    step_events,
    tools_folder,
)
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.cli import runbooks as runbook_cli
from tocsin.clock import VirtualClock

__all__ = ["shop_pg"]
runner = CliRunner()


@pytest.fixture
def at_now(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    clock = VirtualClock(NOW)
    monkeypatch.setattr(runbook_cli, "clock", clock)
    return clock


@pytest.fixture
def path(tmp_path: Path, store_url: str, shop_pg: str) -> str:
    file = tmp_path / "tocsin.yaml"
    folder = tools_folder(tmp_path)
    file.write_text(f'store: {{url: "{store_url}"}}\n' + runbook_yaml(shop_pg, SHELL_ON, folder))
    return str(file)


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["runbook", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_exec_runs_one_step_and_puts_its_output_on_the_timeline(
    path: str, factory: sessionmaker[Session], at_now: VirtualClock, shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    incident = declare(factory, config, at_now, commander="bo")
    out = cli(
        "exec", "tools", "--incident", incident, "--step", "2", "--param", "NAME=Ana", "-c", path
    )
    assert "step 2 (line" in out
    assert "succeeded" in out
    assert "hello Ana" in out
    (event,) = step_events(factory, incident)
    assert "hello Ana" in (event.note or "")
    [run] = json.loads(cli("runs", "--incident", incident, "--json", "-c", path))
    assert run["state"] == "succeeded"
    assert run["output"] == "hello Ana\n"


def test_exec_all_stops_at_the_first_failure(
    path: str, factory: sessionmaker[Session], at_now: VirtualClock, shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    incident = declare(factory, config, at_now, commander="bo")
    out = cli(
        "exec",
        "tools",
        "--incident",
        incident,
        "--all",
        "--param",
        "name=x",
        "--param",
        "order_id=1",
        "-c",
        path,
        code=1,
    )
    assert "step 1 " in out
    assert "step 2 " in out
    assert "timed_out" in out  # step 3
    assert "step 4 " not in out
    assert len(step_events(factory, incident)) == 3


def test_a_write_waits_and_the_commander_approves_it(
    path: str, factory: sessionmaker[Session], at_now: VirtualClock, shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    incident = declare(factory, config, at_now, commander="bo")
    out = cli(
        "exec",
        "tools",
        "--incident",
        incident,
        "--step",
        "7",
        "--param",
        "order_id=3",
        "-c",
        path,
        code=1,
    )
    assert "waits for the incident commander's approval" in out
    run_id = out.split("run ", 1)[1].split(":", 1)[0]
    out = cli("approve", run_id, "--by", "ana", "-c", path, code=1)
    assert "only" in out
    assert "commander (bo) may approve" in out
    out = cli("approve", run_id, "--by", "bo", "-c", path)
    assert "succeeded, 1 row(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--step", "2"], "parameter ${NAME} is not filled"),
        (["--step", "2", "--param", "name=a|b"], "shell metacharacter '|'"),
        (["--step", "2", "--param", "=x"], "--param '=x': write it NAME=VALUE"),
        (["--step", "42"], "has no step 42"),
        ([], "say which steps"),
    ],
)
def test_bad_input_is_a_clear_error_and_runs_nothing(
    path: str,
    factory: sessionmaker[Session],
    at_now: VirtualClock,
    shop_pg: str,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    incident = declare(factory, config, at_now)
    out = cli("exec", "tools", "--incident", incident, *args, "-c", path, code=1)
    assert message in " ".join(out.split())
    assert step_events(factory, incident) == []


def test_exec_for_an_unknown_incident_or_runbook(path: str, at_now: VirtualClock) -> None:
    out = cli(
        "exec", "tools", "--incident", "INC-2000-01-01-001", "--step", "1", "-c", path, code=1
    )
    assert "INC-2000-01-01-001" in out
    out = cli("exec", "nope", "--incident", "INC-2000-01-01-001", "--step", "1", "-c", path, code=1)
    assert "no runbook 'nope'" in out


def test_check_runs_every_read_only_step_and_reports_the_rotten_ones(
    path: str, at_now: VirtualClock
) -> None:
    result = runner.invoke(app, ["runbook", "check", "--json", "-c", path])
    assert result.exit_code == 1, result.output
    found = {c["line"]: c for c in json.loads(result.output)}
    states = {c["state"] for c in found.values()}
    assert "succeeded" in states
    assert "skipped" in states  # prompts (name) and the write aside
    rotted = [c for c in found.values() if c["state"] not in ("succeeded", "skipped")]
    assert {c["state"] for c in rotted} >= {"timed_out"}  # sleep 30, pg_sleep(5)


def test_a_person_ticks_a_verification_item(
    path: str, factory: sessionmaker[Session], at_now: VirtualClock, shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    incident = declare(factory, config, at_now)
    out = cli("tick", "tools", "--incident", incident, "--item", "1", "--by", "ana", "-c", path)
    assert "☑ Orders counted" in out
    (event,) = step_events(factory, incident)
    assert event.actor == "ana"
    assert event.data["checklist_item"] == 1
    out = cli("tick", "tools", "--incident", incident, "--item", "5", "-c", path, code=1)
    assert "has verification items 1-1" in out


def test_exec_asks_for_a_parameter_nothing_fills_and_checks_the_answer(
    path: str, factory: sessionmaker[Session], at_now: VirtualClock, shop_pg: str, tmp_path: Path
) -> None:
    config = runbook_config(shop_pg, SHELL_ON, tools_folder(tmp_path))
    incident = declare(factory, config, at_now, commander="bo")
    base = ["runbook", "exec", "tools", "--incident", incident, "--step", "2", "-c", path]
    asked = runner.invoke(app, [*base, "--ask"], input="Ana\n")
    assert asked.exit_code == 0, asked.output
    assert "name: " in asked.output  # the prompt, as the runbook writes it
    assert len(step_events(factory, incident)) == 1
    unsafe = runner.invoke(app, [*base, "--ask"], input="a|b\n")
    assert unsafe.exit_code == 1
    assert "shell metacharacter '|'" in unsafe.output
    not_asked = runner.invoke(app, [*base, "--no-ask"])
    assert not_asked.exit_code == 1
    assert "parameter ${NAME} is not filled" in not_asked.output
    assert len(step_events(factory, incident)) == 1  # the refusals ran nothing
