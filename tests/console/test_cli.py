"""`tocsin user set-password` and `tocsin audit list`, as a user runs them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tocsin.cli import app
from tocsin.clock import SystemClock
from tocsin.config import parse
from tocsin.console import accounts, sessions
from tocsin.db import session_scope

runner = CliRunner()


def write_config(tmp_path: Path, store_url: str) -> str:
    path = tmp_path / "tocsin.yaml"
    path.write_text(f'store: {{url: "{store_url}"}}\nusers:\n  ana: {{role: responder}}\n')
    return str(path)


def test_set_password_reads_stdin_ends_sessions_and_is_audited(
    tmp_path: Path, store_url: str, factory: sessionmaker[Session]
) -> None:
    path = write_config(tmp_path, store_url)
    config, _ = parse(Path(path).read_text(), path, env={})
    now = SystemClock().now()
    with session_scope(factory) as s:
        _, cookie = sessions.open_(s, "ana", None, timedelta(hours=1), now)
    result = runner.invoke(
        app, ["user", "set-password", "ana", "-c", path], input="a brand new password\n"
    )
    assert result.exit_code == 0, result.output
    assert "password set for ana (responder); 1 session(s) ended" in result.output
    assert "a brand new password" not in result.output
    with session_scope(factory) as s:
        assert accounts.check_password(s, config, "ana", "a brand new password")
        assert sessions.find(s, cookie, now) is None
    result = runner.invoke(app, ["audit", "list", "--json", "-c", path])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["action"], row["target"], row["interface"]) == ("password.set", "ana", "cli")
    assert row["actor"].startswith("os:")
    table = runner.invoke(app, ["audit", "list", "-c", path])
    assert "password.set" in table.output


def test_set_password_for_an_unknown_user_or_a_short_one_changes_nothing(
    tmp_path: Path, store_url: str
) -> None:
    path = write_config(tmp_path, store_url)
    result = runner.invoke(app, ["user", "set-password", "zed", "-c", path], input="long pass 12\n")
    assert result.exit_code == 1
    assert "no user named 'zed'" in result.output
    result = runner.invoke(app, ["user", "set-password", "ana", "-c", path], input="short\n")
    assert result.exit_code == 1
    assert "10 to 1000 characters" in result.output
    listed = runner.invoke(app, ["audit", "list", "--json", "-c", path])
    assert json.loads(listed.output) == []
