"""`tocsin runbook list|show|lint`: the runbooks of `runbooks.path`, read from the files.

The runbook modules (and markdown-it) are imported inside the commands, so `tocsin --help`
and the other commands do not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    err_console,
    fail,
    optional_config,
    print_json,
)

if TYPE_CHECKING:
    from tocsin.config.model import LoadedConfig
    from tocsin.runbooks.service import Catalog

app = typer.Typer(no_args_is_help=True, help="List, show and lint runbooks.")


def _folder(loaded: LoadedConfig | None) -> Path:
    return loaded.config.runbooks.path if loaded else Path("runbooks")


def _catalog(loaded: LoadedConfig | None) -> Catalog:
    from tocsin.runbooks.service import catalog

    folder = _folder(loaded)
    if not folder.is_dir():
        fail(f"no runbook folder at {folder} (runbooks.path in the configuration)")
    return catalog(folder)


@app.command("list")
def list_runbooks(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every runbook in the folder, with its severity, duration and the checks it answers."""
    from tocsin.runbooks.schemas import summary

    found = [summary(r) for r in _catalog(optional_config(config)).runbooks]
    if json:
        print_json([s.model_dump() for s in found])
        return
    table = Table("id", "severity", "duration", "steps", "answers", "title")
    for s in found:
        answers = ", ".join([*s.checks, *s.alerts]) or "—"
        severity = "/".join(s.severities) or "?"
        duration = s.expected_duration or "?"
        table.add_row(s.id, severity, duration, str(s.step_count), answers, s.title)
    console.print(table)


@app.command("show")
def show(
    runbook_id: Annotated[str, typer.Argument(metavar="ID", help="The runbook's id.")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """One runbook: what it answers, its parameters, steps, blocks and checklist."""
    from tocsin.errors import NotFound
    from tocsin.runbooks.schemas import detail

    try:
        runbook = _catalog(optional_config(config)).get(runbook_id)
    except NotFound as exc:
        fail(str(exc))
    out = detail(runbook)
    if json:
        print_json(out.model_dump())
        return
    console.print(f"[bold]{out.title}[/] ({out.id}, {out.file})")
    console.print(
        f"severity {'/'.join(out.severities) or '?'} · expected {out.expected_duration or '?'}"
        f" · answers {', '.join([*out.checks, *out.alerts]) or 'nothing automatically'}",
        markup=False,
    )
    for param in out.params:
        origin = f"default {param.default}" if param.default else "asked"
        if param.env:
            origin = f"from ${param.env}"
        console.print(f"  param {param.name}: {origin}", markup=False)
    for step in out.steps:
        console.print(f"{step.number}. {step.title}", markup=False)
        for block in step.blocks:
            where = f" on {block.source}" if block.source else ""
            line = f"     {block.kind} ({block.mode}{where}) line {block.line}"
            console.print(line, markup=False)
    for item in out.verification:
        console.print(f"[{'x' if item.checked else ' '}] {item.text}", markup=False)
    for problem in out.problems:
        err_console.print(f"problem: {problem}", markup=False)


@app.command("lint")
def lint_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Runbook files or folders (default: runbooks.path)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Every problem in the runbooks as file:line: message, sorted; exit 1 if there is one.
    With a configuration, sources, checks, parameters and its runbook links are checked too."""
    from tocsin.runbooks.lint import Facts, config_links, lint
    from tocsin.runbooks.service import read

    loaded = optional_config(config)
    targets = paths or [_folder(loaded)]
    missing = [p for p in targets if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(map(str, missing))}")
    runbooks, problems = read(targets)
    problems += lint(runbooks, Facts.of(loaded.config) if loaded else None)
    if loaded is not None and not paths:
        text = loaded.path.read_text(encoding="utf-8")
        problems += config_links(text, str(loaded.path), (r.id for r in runbooks))
    if loaded is None:
        err_console.print(
            "no configuration: sources, checks and their labels were not checked", markup=False
        )
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.message)):
        console.print(str(problem), markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"{len(runbooks)} runbook(s), no problems", markup=False)
