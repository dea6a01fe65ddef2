"""`tocsin init` copies the runbooks; `tocsin runbook list|show|lint` read them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tocsin.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def initialised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOP_DATABASE_URL", "sqlite:///shop.db")
    target = tmp_path / "tocsin.yaml"
    code, out = invoke("init", str(target))
    assert code == 0, out
    assert "18 runbooks" in out
    return target


def test_init_copies_the_runbooks_and_they_lint_clean_against_its_configuration(
    initialised: Path,
) -> None:
    assert len(list((initialised.parent / "runbooks").glob("*.md"))) == 18
    code, out = invoke("runbook", "lint", "-c", str(initialised))
    assert code == 0, out
    assert "18 runbook(s), no problems" in out


def test_init_keeps_a_runbook_the_team_edited_unless_forced(initialised: Path) -> None:
    edited = initialised.parent / "runbooks" / "provider-failure.md"
    edited.write_text(edited.read_text().replace("Printful or Printify", "our providers"))
    code, out = invoke("init", str(initialised), "--force")
    assert code == 0, out
    assert "our providers" not in edited.read_text()  # --force replaces everything
    edited.write_text("ours")
    for other in edited.parent.glob("*.md"):
        if other != edited:
            other.unlink()
    initialised.unlink()
    code, out = invoke("init", str(initialised))
    assert code == 0, out
    assert "17 runbooks" in out
    assert "1 already there, kept" in out
    assert edited.read_text() == "ours"


def test_list_and_show(initialised: Path) -> None:
    code, out = invoke("runbook", "list", "-c", str(initialised), "--json")
    assert code == 0, out
    listed = json.loads(out)
    assert len(listed) == 18
    queue = next(r for r in listed if r["id"] == "manual-queue-overflow")
    assert (queue["step_count"], queue["checks"]) == (4, ["manual_queue"])
    code, out = invoke("runbook", "show", "manual-queue-overflow", "-c", str(initialised))
    assert code == 0, out
    assert "Manual queue overflow (manual-queue-overflow, manual-queue-overflow.md)" in out
    assert "2. Triage and reassign" in out
    assert "sql (write on shop)" in out
    code, out = invoke("runbook", "show", "nope", "-c", str(initialised))
    assert code == 1
    assert "no runbook 'nope'" in out


def test_lint_names_every_problem_and_exits_1(initialised: Path) -> None:
    folder = initialised.parent / "runbooks"
    text = (folder / "provider-failure.md").read_text()
    (folder / "provider-failure.md").write_text(text.replace("source: shop", "source: warehouse"))
    (folder / "extra.md").write_text(text.replace("\n## Escalation Criteria\n", "\n## Later\n"))
    code, out = invoke("runbook", "lint", "-c", str(initialised))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0] == f"{folder}/extra.md:23: missing required section '## Escalation Criteria'"
    assert (
        f"{folder}/provider-failure.md:2: id 'provider-failure' is already used by "
        f"{folder}/extra.md:2"
    ) in lines
    unknown = [line for line in lines if "unknown source 'warehouse'" in line]
    assert len(unknown) == 9  # every sql block of the file, each at its line
    assert lines == sorted(lines, key=lambda p: (p.split(":")[0], int(p.split(":")[1])))


def test_lint_without_a_configuration_checks_what_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    Path("x.md").write_text("# No front matter\n")
    code, out = invoke("runbook", "lint", "x.md")
    assert code == 1
    assert "x.md:1: the file must start with front matter" in out
    assert "no configuration: sources, checks and their labels were not checked" in out
