"""Each kind of step, and each bad input, on a small runbook of its own: shell steps with the
shell on (argv, no shell, clean environment, timeout, output cap), SQL timeouts on a real
PostgreSQL storefront, writes behind approval, unfilled and unsafe parameters."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.support.runbooks import (
    NOW,
    SHELL_ON,
    declare,
    runbook_config,
    shop_pg,
    step_events,
    tools_folder,
)

from tocsin import actions
from tocsin.actions.runbooks import Selection
from tocsin.clock import VirtualClock
from tocsin.config import TocsinConfig
from tocsin.db import session_scope
from tocsin.errors import Invalid
from tocsin.runbooks import runs
from tocsin.runbooks.lint import Facts, lint
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.service import catalog
from tocsin.runbooks.steps import OUTPUT_CAP

__all__ = ["shop_pg"]


@pytest.fixture
def at_now() -> VirtualClock:
    return VirtualClock(NOW)


def configured(shop: str, tmp_path: Path, shell: bool = True) -> TocsinConfig:
    return runbook_config(shop, SHELL_ON if shell else "", tools_folder(tmp_path))


def run_step(
    factory: sessionmaker[Session],
    config: TocsinConfig,
    clock: VirtualClock,
    step: int,
    given: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
) -> RunbookRun:
    incident = declare(factory, config, clock, commander="bo")
    book = catalog(config.runbooks.path).get("tools")
    with session_scope(factory) as s:
        (row,) = actions.runbooks.request(
            s,
            config,
            book,
            Selection(step=step),
            incident_id=incident,
            given=given or {},
            by="ana",
            now=clock.now(),
            environ=environ or {},
        )
        run_id = row.id
    actions.runbooks.run_due(factory, config, clock, "w1", environ=environ or {})
    with session_scope(factory) as s:
        found = runs.get(s, run_id)
        s.expunge(found)
    return found


def test_the_tools_runbook_lints_clean(shop_pg: str, tmp_path: Path) -> None:
    config = configured(shop_pg, tmp_path)
    book = catalog(config.runbooks.path).get("tools")
    assert lint([book], Facts.of(config)) == []


def test_a_parameter_is_one_argument_and_the_output_is_kept(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    config = configured(shop_pg, tmp_path)
    row = run_step(factory, config, at_now, 2, {"name": "Ana Lima"})
    assert row.state == "succeeded", row.error
    assert row.exit_status == 0
    assert row.output == "hello Ana Lima\n"
    assert row.output_sha256 == hashlib.sha256(b"hello Ana Lima\n").hexdigest()


def test_a_command_past_its_timeout_is_killed_and_timed_out(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 3)
    assert row.state == "timed_out"
    assert "timed out after 1s" in (row.error or "")


def test_output_is_capped_at_64_kb_with_the_hash_of_all_of_it(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 4)
    whole = "".join(f"{n}\n" for n in range(1, 40001)).encode()
    assert row.state == "succeeded"
    assert row.truncated
    assert row.output_bytes == len(whole) > OUTPUT_CAP
    assert len((row.output or "").encode()) == OUTPUT_CAP
    assert row.output_sha256 == hashlib.sha256(whole).hexdigest()


def test_commands_run_in_a_clean_environment(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 5)
    names = sorted(line.split("=", 1)[0] for line in (row.output or "").splitlines())
    assert names == ["LANG", "PATH"]


def test_a_secret_parameter_is_redacted_and_never_stored(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    env = {"TOOLS_TOKEN": "s3cr3t-v4lue-123"}
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 8, environ=env)
    assert row.state == "succeeded", row.error
    assert "s3cr3t" not in (row.output or "")
    assert row.params == {"token": {"env": "TOOLS_TOKEN"}}
    assert "s3cr3t" not in str(step_events(factory, row.incident_id or "")[-1].data)


def test_a_line_that_needs_a_shell_is_refused(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 9)
    assert row.state == "refused"
    assert "'|' needs a shell" in (row.error or "")


def test_shell_steps_are_refused_while_the_shell_is_off(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path, shell=False), at_now, 2)
    assert row.state == "refused"
    assert row.attempts == 0
    assert row.output is None
    assert row.error == "shell steps are off (runbooks.shell.enabled is false)"
    (event,) = step_events(factory, row.incident_id or "")
    assert "refused: shell steps are off" in (event.note or "")


def test_a_query_past_its_timeout_is_timed_out(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 6)
    assert row.state == "timed_out", row.error
    assert row.duration_ms is not None
    assert row.duration_ms < 5000


def test_a_test_that_holds_succeeds_and_one_that_does_not_fails(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    row = run_step(factory, configured(shop_pg, tmp_path), at_now, 1)
    assert row.state == "succeeded", row.error
    assert row.tests == [{"test": "orders > 0", "held": True, "error": None}]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, r"tools.md:\d+: parameter \$\{NAME\} is not filled: give --param name="),
        ({"name": "x; rm -rf /"}, "shell metacharacter ';'"),
        ({"name": "$(reboot)"}, "shell metacharacter '\\$'"),
        ({"name": "`id`"}, "shell metacharacter '`'"),
    ],
)
def test_a_bad_parameter_is_an_error_before_anything_is_written(
    factory: sessionmaker[Session],
    shop_pg: str,
    tmp_path: Path,
    at_now: VirtualClock,
    given: dict[str, Any],
    message: str,
) -> None:
    config = configured(shop_pg, tmp_path)
    with pytest.raises(Invalid, match=message):
        run_step(factory, config, at_now, 2, given)
    with session_scope(factory) as s:
        assert runs.list_(s) == []


def test_a_write_to_a_source_not_allowed_to_be_written_is_refused(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    config = runbook_config(shop_pg, "", tools_folder(tmp_path))
    row = run_step(factory, config, at_now, 7, {"order_id": "1"})
    assert row.state == "refused"
    assert "not among runbooks.writable_sources" in (row.error or "")


def test_a_write_without_approval_never_runs(
    factory: sessionmaker[Session], shop_pg: str, tmp_path: Path, at_now: VirtualClock
) -> None:
    config = configured(shop_pg, tmp_path)
    row = run_step(factory, config, at_now, 7, {"order_id": "1"})
    assert row.state == "queued"
    assert row.attempts == 0
    assert row.approved_at is None
    for _ in range(3):
        assert actions.runbooks.run_due(factory, config, at_now, "w2") == []
    with session_scope(factory) as s:
        actions.runbooks.approve(s, row.id, "bo", at_now.now())
    (ended,) = actions.runbooks.run_due(factory, config, at_now, "w2")
    assert ended.state == "succeeded"
    assert ended.row_count == 1
    assert ended.approved_by == "bo"
