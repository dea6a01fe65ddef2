"""SQL sources whose database role can do more than read, on a real PostgreSQL.

A read-only transaction refuses writes to tables and nothing else; these tests show a
superuser running a program on the database server from inside one, through Tocsin's own SQL
source, and check that `tocsin config validate` and `tocsin run` warn about such a source and
not about a role granted pg_read_all_data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.support.pg import PG_URL
from typer.testing import CliRunner

from tocsin.checks.sources import SqlSource
from tocsin.cli import app
from tocsin.config import SqlSourceConfig
from tocsin.errors import SourceError

runner = CliRunner()
# The program reads the row, then fails on purpose: PostgreSQL reports that failure only after
# it ran the program.
PROGRAM = "cat > /dev/null; exit 3"
RUN_A_PROGRAM = f"COPY (SELECT 1) TO PROGRAM '{PROGRAM}'"


@pytest.fixture
def reader() -> Iterator[str]:
    """The URL of a fresh login role granted pg_read_all_data (no password: the test server
    trusts local connections); dropped afterwards."""
    name = f"tocsin_reader_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
        conn.execute(text(f"GRANT pg_read_all_data TO {name}"))
    try:
        yield make_url(PG_URL).set(username=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


def source(url: str) -> SqlSource:
    return SqlSource(SqlSourceConfig(type="sql", url=url))


def write_config(tmp_path: Path, **urls: str) -> Path:
    path = tmp_path / "tocsin.yaml"
    sources = "".join(f"  {name}: {{type: sql, url: '{url}'}}\n" for name, url in urls.items())
    path.write_text(f"store: {{url: 'sqlite:///{tmp_path / 'store.db'}'}}\nsources:\n{sources}")
    return path


def test_a_superuser_runs_a_program_on_the_server_inside_a_read_only_query() -> None:
    superuser = source(PG_URL)
    with pytest.raises(SourceError) as caught:
        superuser.fetch(RUN_A_PROGRAM, {})
    superuser.close()
    assert str(caught.value) == f'program "{PROGRAM}" failed'  # so the server ran it
    assert superuser.fetch("SELECT 1 AS one", {}) == [{"one": 1}]


def test_a_pg_read_all_data_role_reads_but_cannot_run_a_program(reader: str) -> None:
    role = source(reader)
    assert role.fetch("SELECT count(*) AS n FROM pg_class WHERE relname = 'pg_class'", {}) == [
        {"n": 1}
    ]
    with pytest.raises(SourceError) as caught:
        role.fetch(RUN_A_PROGRAM, {})
    role.close()
    assert "failed" not in str(caught.value)
    assert "pg_execute_server_program" in str(caught.value)


def test_validate_warns_about_a_superuser_source_and_not_a_reader(
    tmp_path: Path, reader: str
) -> None:
    path = write_config(tmp_path, shop=PG_URL, warehouse=reader)
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 0
    user = make_url(PG_URL).username
    assert result.output.splitlines()[1:] == [
        f"warning: sources.shop connects as '{user}', a superuser: a read-only transaction "
        "does not stop COPY … TO PROGRAM, which runs a shell command on the database server; "
        "connect as a role that can only read, such as one granted pg_read_all_data (CREATE "
        "ROLE tocsin_reader LOGIN PASSWORD '…'; GRANT pg_read_all_data TO tocsin_reader)"
    ]
    offline = runner.invoke(app, ["config", "validate", "--offline", str(path)])
    assert (offline.exit_code, len(offline.output.splitlines())) == (0, 1)


def test_validate_says_when_it_cannot_connect_to_check(tmp_path: Path, closed_port: int) -> None:
    url = make_url(PG_URL).set(host="127.0.0.1", port=closed_port)
    path = write_config(tmp_path, shop=url.render_as_string(hide_password=False))
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 0
    (note,) = result.output.splitlines()[1:]
    assert note.startswith("note: sources.shop: cannot connect to check its role (cannot ")
    assert note.endswith("; `tocsin run` checks again when it starts")


def test_run_warns_at_start(tmp_path: Path, reader: str, caplog: pytest.LogCaptureFixture) -> None:
    path = write_config(tmp_path, shop=PG_URL, warehouse=reader)
    assert runner.invoke(app, ["db", "upgrade", "-c", str(path)]).exit_code == 0
    with caplog.at_level(logging.WARNING, logger="tocsin.run"):
        assert runner.invoke(app, ["run", "--once", "-c", str(path)]).exit_code == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "tocsin.run"]
    assert len(warnings) == 1
    assert warnings[0].startswith("source shop connects as ")
    assert "a superuser: a read-only transaction does not stop COPY … TO PROGRAM" in warnings[0]
