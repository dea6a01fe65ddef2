"""`tocsin runbook list|show|lint|exec|approve|tick|runs|check`: the runbooks of `runbooks.path`,
read from the files, and their steps run for incidents.

The runbook modules (and markdown-it) are imported inside the commands, so `tocsin --help`
and the other commands do not pay for them.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    err_console,
    fail,
    load_config,
    optional_config,
    print_json,
    store,
    transaction,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tocsin.config.model import LoadedConfig, TocsinConfig
    from tocsin.runbooks.models import RunbookRun
    from tocsin.runbooks.parse import Runbook
    from tocsin.runbooks.service import Catalog

app = typer.Typer(
    no_args_is_help=True, help="List, show, lint, run and check runbooks; approve their writes."
)


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


# --- running steps -----------------------------------------------------------------------

IncidentOption = Annotated[
    str, typer.Option("--incident", help="The incident the steps run for (INC-…).")
]
ByOption = Annotated[str, typer.Option("--by", help="Who asks (for the timeline).")]


def _owner() -> str:
    return f"cli:{os.getpid()}"


def _show_run(row: RunbookRun) -> None:
    where = f" on {row.source}" if row.source else ""
    step = f"step {row.step}" if row.step is not None else "block"
    parts = [row.state]
    if row.row_count is not None:
        parts.append(f"{row.row_count} row(s)")
    if row.exit_status is not None:
        parts.append(f"status {row.exit_status}")
    if row.duration_ms is not None:
        parts.append(f"{row.duration_ms} ms")
    if row.state == "queued" and row.mode == "write" and row.approved_at is None:
        parts.append("waits for the incident commander's approval")
    console.print(
        f"run {row.id}: {row.runbook_id} {step} (line {row.line}) {row.kind}{where} "
        f"({row.mode}): {', '.join(parts)}",
        markup=False,
        highlight=False,
    )
    if row.error:
        console.print(f"  {row.error}", markup=False, highlight=False)
    for test in row.tests or []:
        mark = "holds" if test["held"] else "does not hold"
        console.print(f"  test {test['test']}: {mark}", markup=False, highlight=False)
    if row.output:
        console.print(row.output.rstrip("\n"), markup=False, highlight=False)
        if row.truncated:
            console.print(
                f"  (cut at 64 KB of {row.output_bytes} bytes; sha256 {row.output_sha256})",
                markup=False,
                highlight=False,
            )


def _run_now(
    factory: sessionmaker[Session], config: TocsinConfig, ids: list[int]
) -> list[RunbookRun]:
    """Run these runs here and now, through the same claim as the worker's (a run a worker
    took first is waited for); the rows as they are then: ended, or waiting for approval."""
    from tocsin import actions
    from tocsin.runbooks import runs

    deadline = time.monotonic() + 900
    while True:
        actions.runbooks.run_due(factory, config, clock, _owner(), ids=ids)
        with transaction(factory) as session:
            rows = [runs.get(session, i) for i in ids]
        pending = [
            r
            for r in rows
            if r.state == "running" or (r.state == "queued" and (r.mode == "read" or r.approved_at))
        ]
        if not pending or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


UNFILLED = re.compile(r"is not filled[^:]*: give --param (\w+)=")


@app.command("exec")
def exec_(
    runbook_id: Annotated[str, typer.Argument(metavar="SLUG", help="The runbook's id.")],
    incident: IncidentOption,
    step: Annotated[int | None, typer.Option("--step", help="Run this step only.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Run every step in order; stop at the first failure.")
    ] = False,
    verification: Annotated[
        bool, typer.Option("--verification", help="Run the Verification Steps' blocks.")
    ] = False,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A parameter, NAME=VALUE (repeatable).")
    ] = None,
    ask: Annotated[
        bool,
        typer.Option(
            "--ask/--no-ask",
            help="Ask for parameters nothing fills (default: when the input is a terminal).",
        ),
    ] = sys.stdin.isatty(),
    by: ByOption = "operator",
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Run a runbook's steps for an incident; each run's output goes on its timeline. A step
    that writes waits for the commander's approval (`tocsin runbook approve`). A parameter
    that neither --param, the incident's alerts' labels nor the runbook fills is asked for
    on a terminal (--ask), or is an error before anything runs."""
    from tocsin import actions
    from tocsin.actions.runbooks import Selection
    from tocsin.db import session_scope
    from tocsin.errors import TocsinError
    from tocsin.runbooks.params import parse_given
    from tocsin.runbooks.schemas import run_out

    if sum([step is not None, all_, verification]) != 1:
        fail("say which steps: --step N, --all or --verification")
    loaded = load_config(config)
    runbook = _get(loaded, runbook_id)
    try:
        given = parse_given(param or [])
    except TocsinError as exc:
        fail(str(exc))
    if all_:
        selections = [Selection(step=s.number) for s in runbook.steps if s.blocks]
    else:
        selections = [Selection(step=step, verification=verification)]
    shown: list[RunbookRun] = []
    failed = False
    with store(loaded) as factory:
        for selection in selections:
            while True:
                try:
                    with session_scope(factory) as session:
                        asked = actions.runbooks.request(
                            session,
                            loaded.config,
                            runbook,
                            selection,
                            incident_id=incident,
                            given=given,
                            by=by,
                            now=clock.now(),
                        )
                        ids = [row.id for row in asked]
                    break
                except TocsinError as exc:
                    missing = UNFILLED.findall(str(exc)) if ask else []
                    if not missing:
                        fail(str(exc))
                    for name in dict.fromkeys(missing):  # asked, then checked like --param
                        given[name] = typer.prompt(name)
            rows = _run_now(factory, loaded.config, ids)
            shown += rows
            if not json:
                for row in rows:
                    _show_run(row)
            if any(r.state != "succeeded" for r in rows):
                failed = True
                break
    if json:
        print_json([run_out(r).model_dump() for r in shown])
    if failed:
        raise typer.Exit(1)


@app.command("approve")
def approve(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="The run's id.")],
    by: Annotated[str, typer.Option("--by", help="The incident commander.")],
    config: ConfigOption = None,
) -> None:
    """Approve a step that writes (the incident commander only), then run it."""
    from tocsin import actions

    loaded = load_config(config)
    with store(loaded) as factory:
        with transaction(factory) as session:
            actions.runbooks.approve(session, run_id, by, clock.now())
        (row,) = _run_now(factory, loaded.config, [run_id])
    _show_run(row)
    if row.state != "succeeded":
        raise typer.Exit(1)


@app.command("tick")
def tick(
    runbook_id: Annotated[str, typer.Argument(metavar="SLUG", help="The runbook's id.")],
    incident: IncidentOption,
    item: Annotated[int, typer.Option("--item", help="The verification item, from 1.")],
    by: ByOption = "operator",
    config: ConfigOption = None,
) -> None:
    """Tick an item of the Verification Steps for an incident (it goes on the timeline)."""
    from tocsin import actions

    loaded = load_config(config)
    runbook = _get(loaded, runbook_id)
    with store(loaded) as factory, transaction(factory) as session:
        text = actions.runbooks.tick(session, runbook, incident, item, by, clock.now())
    console.print(f"☑ {text}", markup=False, highlight=False)


@app.command("runs")
def runs_command(
    incident: IncidentOption,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """The runs of runbook steps for an incident, newest first, with their outputs."""
    from tocsin.runbooks import runs
    from tocsin.runbooks.schemas import run_out

    loaded = load_config(config)
    with store(loaded) as factory, transaction(factory) as session:
        rows = runs.list_(session, incident_id=incident)
    if json:
        print_json([run_out(r).model_dump() for r in rows])
        return
    if not rows:
        console.print(f"no runbook steps have run for {incident}", markup=False)
    for row in rows:
        _show_run(row)


@app.command("check")
def check(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Run every read-only step of every runbook against the real sources (what the worker
    does nightly); exit 1 when one fails. Steps that need an operator's answer are skipped."""
    from tocsin.actions.runbook_rot import check_all, report

    loaded = load_config(config)
    with store(loaded) as factory:
        found = check_all(factory, loaded.config, clock, _owner())
    if json:
        print_json([vars(c) for c in found])
    else:
        counts = Counter(c.state for c in found)
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        console.print(f"{len(found)} read-only block(s): {summary or 'none'}", markup=False)
        text = report(found)
        if text:
            err_console.print(text, markup=False, highlight=False)
    if any(c.rotted for c in found):
        raise typer.Exit(1)


def _get(loaded: LoadedConfig, runbook_id: str) -> Runbook:
    from tocsin.errors import NotFound

    try:
        return _catalog(loaded).get(runbook_id)
    except NotFound as exc:
        fail(str(exc))
