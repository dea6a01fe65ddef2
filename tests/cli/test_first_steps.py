"""A new user's first steps: a wrong store or configuration path is one clear line, and no
command but `db upgrade` and `run` leaves a store file behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tocsin.cli import app

Command = Any  # Typer's own click command classes

runner = CliRunner()


def leaf_commands() -> Iterator[tuple[list[str], Command]]:
    def walk(path: list[str], command: Command) -> Iterator[tuple[list[str], Command]]:
        children = getattr(command, "commands", None)
        if children is None:
            yield path, command
            return
        for name, child in children.items():
            yield from walk([*path, name], child)

    yield from walk([], typer.main.get_command(app))


def with_required_arguments(path: list[str], command: Command) -> list[str]:
    """The command with "1" for each required argument and option (an id, a name, --by),
    and a length for what needs one (`silence add`)."""
    args = list(path)
    for param in command.params:
        if param.required and param.param_type_name == "option":
            args += [param.opts[0], "1"]
        elif param.required:
            args.append("1")
        elif "--for" in param.opts:
            args += ["--for", "1h"]
    return args


def takes_a_config(command: Command) -> bool:
    return any("--config" in getattr(p, "opts", ()) for p in command.params)


CONFIGURED = [
    with_required_arguments(path, command)
    for path, command in leaf_commands()
    if takes_a_config(command)
]
# Commands that only read the store or change rows in it: none may create a store file.
ON_THE_STORE = (
    [
        args
        for args in CONFIGURED
        if args[:2] not in (["db", "upgrade"], ["config", "validate"], ["config", "show"])
        and args[0] not in ("run", "check", "oncall", "slo")  # these need a configuration file
        and args[:2]
        not in (["report", "list"], ["report", "run"], ["user", "set-password"], ["user", "invite"])
        and args[0] != "runbook"  # reads the runbook files, not the store
    ]
    + [["oncall", "overrides"]]
)


def test_every_command_with_a_configuration_was_found() -> None:
    names = {" ".join(a[:2]) for a in CONFIGURED}
    assert {"alerts list", "db upgrade", "run", "silence add", "token list"} <= names


@pytest.mark.parametrize("named_by", ["-c", "TOCSIN_CONFIG"])
@pytest.mark.parametrize("args", CONFIGURED, ids=" ".join)
def test_a_missing_config_file_named_by_c_or_tocsin_config_is_an_error(
    args: list[str], named_by: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if named_by == "-c":
        args = [*args, "-c", "gone.yaml"]
    else:
        monkeypatch.setenv("TOCSIN_CONFIG", "gone.yaml")
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # Rich's panel wraps lines
    assert "(env var: 'TOCSIN_CONFIG'): file 'gone.yaml' does not exist" in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", ON_THE_STORE, ids=" ".join)
def test_commands_on_the_store_never_create_a_store_file(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "there is no store at" in result.output
    assert "create it with `tocsin db upgrade`" in result.output
    assert list(tmp_path.iterdir()) == []


def test_db_upgrade_creates_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "sqlite:///store.db")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert (tmp_path / "store.db").exists()
    result = runner.invoke(app, ["alerts", "list", "--json"])
    assert (result.exit_code, result.output) == (0, "[]\n")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "args", [["alerts", "list"], ["db", "upgrade"], ["db", "current"], ["token", "create", "x"]]
)
def test_an_unreachable_store_is_one_line_naming_it_without_its_password(
    args: list[str], tmp_path: Path
) -> None:
    port = closed_port()
    url = f"postgresql+psycopg://app:s3cr3t-pw@127.0.0.1:{port}/tocsin"
    done = subprocess.run(
        [sys.executable, "-m", "tocsin.cli", *args],
        cwd=tmp_path,
        env={**os.environ, "TOCSIN_DATABASE_URL": url, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(
        f"error: cannot reach the store postgresql+psycopg://app:***@127.0.0.1:{port}/tocsin: "
    )
    assert "Connection refused" in line
    assert "$TOCSIN_DATABASE_URL" in line
    assert "s3cr3t-pw" not in done.stderr
