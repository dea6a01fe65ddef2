"""The CLI starts fast: a command loads only the modules it uses (`bench/cli.py` times it).

Each test runs `tocsin` in a fresh interpreter and lists the modules it imported: a heavy
import at the top of any command module shows up here, where a timing would only flicker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs the CLI in this interpreter, then prints the top-level names of the loaded modules.
PROBE = """
import contextlib, io, sys
from tocsin.cli import main
sys.argv = ["tocsin", *sys.argv[1:]]
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    main()
print(" ".join(sorted(sys.modules)))
"""


def loaded_by(*args: str, cwd: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(done.stdout.split())


def heavy(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in names or m in names}


def test_help_loads_no_store_no_web_and_no_configuration(tmp_path: Path) -> None:
    modules = loaded_by("--help", cwd=tmp_path)
    assert {m for m in modules if m.startswith("tocsin.")} == {"tocsin.cli"}
    assert heavy(modules, ("sqlalchemy", "fastapi", "uvicorn", "pydantic", "alembic")) == set()


def test_listing_alerts_loads_the_store_but_not_the_api_the_pipeline_or_alembic(
    tmp_path: Path, sqlite_template: Path
) -> None:
    (tmp_path / "tocsin.db").write_bytes(sqlite_template.read_bytes())
    modules = loaded_by("alerts", "list", cwd=tmp_path)
    assert "tocsin.alerts.service" in modules
    assert {m for m in modules if m.startswith("tocsin.cli.")} == {
        "tocsin.cli.alerts",
        "tocsin.cli.common",
    }
    assert heavy(modules, ("fastapi", "uvicorn", "alembic", "httpx")) == set()
    assert heavy(modules, ("tocsin.pipeline", "tocsin.web", "tocsin.actions")) == set()


@pytest.mark.parametrize("command", [["alerts", "show", "1"], ["silence", "list"]])
def test_other_read_commands_leave_the_api_and_alembic_alone(
    command: list[str], tmp_path: Path, sqlite_template: Path
) -> None:
    (tmp_path / "tocsin.db").write_bytes(sqlite_template.read_bytes())
    modules = loaded_by(*command, cwd=tmp_path)
    assert heavy(modules, ("fastapi", "uvicorn", "alembic")) == set()


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    done = subprocess.run(
        [sys.executable, "-m", "tocsin.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == f"tocsin {version('tocsin')}\n"


def test_store_only_commands_read_only_the_store_url_of_the_configuration(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """`alerts list` neither validates the file (a channel's unset variable does not stop it)
    nor loads the configuration's models."""
    (tmp_path / "tocsin.db").write_bytes(sqlite_template.read_bytes())
    (tmp_path / "tocsin.yaml").write_text(
        "store: {url: 'sqlite:///tocsin.db'}\n"
        "channels:\n  slack: {type: slack, url: '${UNSET_IN_THIS_TEST}'}\n"
    )
    modules = loaded_by("alerts", "list", cwd=tmp_path)
    assert "tocsin.alerts.service" in modules  # it did list
    assert "tocsin.config.locate" in modules
    assert heavy(modules, ("tocsin.config.model", "tocsin.config.loader", "jinja2")) == set()


def test_every_command_module_is_registered_and_the_full_app_has_them_all() -> None:
    """A group added under tocsin/cli/ but missing from COMMANDS would never be reachable."""
    import tocsin.cli
    from tocsin.cli import COMMANDS

    folder = Path(tocsin.cli.__file__).parent
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "__main__", "common"}
    helpers_only = {m for m in modules if "app" not in (folder / f"{m}.py").read_text()}
    assert modules - helpers_only <= {module for module, _, _ in COMMANDS.values()}
    names = {c.name for c in tocsin.cli.app.registered_commands} | {
        g.name for g in tocsin.cli.app.registered_groups
    }
    assert names == set(COMMANDS)
