"""`tocsin check list|run|replay`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    fail,
    load_config,
    print_json,
    store,
    transaction,
    when,
)

if TYPE_CHECKING:
    from tocsin import actions
    from tocsin.config import TocsinConfig
    from tocsin.config.checks import CheckConfig

app = typer.Typer(no_args_is_help=True, help="Run and inspect checks.")


@app.command("list")
def list_checks(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every configured check with its schedule and when it runs next."""
    from tocsin.checks import service as checks

    loaded = load_config(config)
    with store(loaded) as factory, transaction(factory) as session:
        rows = {r.check_name: r for r in checks.schedules(session)}
    data: list[dict[str, Any]] = [
        {
            "name": c.name,
            "source": c.source,
            "enabled": c.enabled,
            "schedule": f"every {c.schedule.every}" if c.schedule.every else c.schedule.cron,
            "next_run_at": rows[c.name].next_run_at if c.name in rows else None,
            "last_run_at": rows[c.name].last_run_at if c.name in rows else None,
            "consecutive_errors": rows[c.name].consecutive_errors if c.name in rows else 0,
        }
        for c in loaded.config.checks
    ]
    if json:
        print_json(data)
        return
    table = Table("check", "source", "schedule", "next run (UTC)", "last run", "errors")
    for d in data:
        table.add_row(
            d["name"],
            d["source"],
            str(d["schedule"]),
            when(d["next_run_at"]),
            when(d["last_run_at"]),
            str(d["consecutive_errors"]),
        )
    console.print(table)


def _named(config: TocsinConfig, name: str) -> CheckConfig:
    try:
        return config.check(name)
    except KeyError:
        known = ", ".join(c.name for c in config.checks)
        fail(f"no check named {name!r} (known: {known})")


@app.command("run")
def run_check(
    name: Annotated[str, typer.Argument(help="The check's name.")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Evaluate a check once, now, and print the result. Changes nothing in the store."""
    from tocsin import actions
    from tocsin.checks.sources import open_source
    from tocsin.errors import SourceError

    loaded = load_config(config)
    check = _named(loaded.config, name)
    now = clock.now()
    with store(loaded) as factory, transaction(factory) as session:
        snap = actions.checks.snapshot(session, check, now)
    try:
        source = open_source(loaded.config.sources[check.source], egress=loaded.config.egress)
    except SourceError as exc:
        fail(f"source {check.source!r}: {exc}")
    try:
        outcome = actions.checks.evaluate(check, source, snap, now)
    finally:
        source.close()
    if json:
        print_json(
            {
                "check": name,
                "status": outcome.status,
                "error_kind": outcome.error_kind,
                "error": outcome.error,
                "elapsed_ms": round(outcome.elapsed_ms, 2),
                "results": [r.as_json() for r in outcome.results],
            }
        )
    else:
        _print_outcome(outcome)
    if outcome.status == "error":
        raise typer.Exit(2)


@app.command("replay")
def replay_check(
    name: Annotated[str, typer.Argument(help="The check's name.")],
    hold: Annotated[
        str, typer.Option("--for", help="The `for` to try instead, like 5m (0s: none).")
    ],
    since: Annotated[
        str, typer.Option("--since", help="Replay the values stored since: now-7d, ISO 8601.")
    ] = "now-7d",
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Replay a check's stored values with another `for`: the pages it would drop and the
    incidents it would have missed. Changes nothing."""
    from tocsin.cli.oncall import parse_time
    from tocsin.config.fields import parse_duration
    from tocsin.errors import Invalid
    from tocsin.reports.replay import replay

    loaded = load_config(config)
    check = _named(loaded.config, name)
    try:
        wanted = parse_duration(hold)
    except ValueError as exc:
        fail(f"--for: {exc}")
    now = clock.now()
    start = parse_time(since, now, "UTC")
    with store(loaded) as factory, transaction(factory) as session:
        try:
            found = replay(session, check, wanted, start, now).as_dict()
        except Invalid as exc:
            fail(str(exc))
    if json:
        print_json(found)
        return
    console.print(
        f"{name}: {found['values']:,} values of {found['series']} series since {when(start)} UTC"
    )
    console.print(
        f"for {found['for_now']:g} s (now): {found['pages_now']} pages; "
        f"for {found['for_then']:g} s: {found['pages_then']} pages "
        f"({found['pages_dropped']} dropped)"
    )
    console.print(
        f"incidents from its alerts: {found['incidents']}; "
        f"missed with the change: {found['incidents_missed']}"
    )


def _print_outcome(outcome: actions.checks.Outcome) -> None:
    took = f"in {outcome.elapsed_ms:.1f} ms"
    if outcome.status == "error":
        console.print(
            f"[red]{outcome.check_name}: error {took}[/] — {outcome.error_kind}: {outcome.error}"
        )
        return
    if outcome.status != "ok":
        console.print(f"{outcome.check_name}: {outcome.status} {took}")
    else:  # what a person asks first: does it fire? ("ok" would read as "all clear")
        console.print(f"{outcome.check_name}: {_verdict(outcome)} {took}")
    if outcome.status == "inactive":
        console.print("outside its active hours: nothing queried, open alerts would resolve")
        return
    table = Table("labels", "value", "severity", "message")
    for r in outcome.results:
        labels = ", ".join(f"{k}={v}" for k, v in r.labels.items())
        severity = r.severity or ("pending " + r.raw_severity if r.raw_severity else "ok")
        value = "—" if r.value is None else f"{r.value:g}"
        table.add_row(labels, value, severity, r.message + "".join(f" ({n})" for n in r.notes))
    console.print(table)


def _verdict(outcome: actions.checks.Outcome) -> str:
    """The worst severity a row fires at, else the worst pending one, else all clear."""
    from tocsin.config import SEVERITIES

    def worst(found: list[str]) -> str:
        return min(found, key=SEVERITIES.index)

    firing = [r.severity for r in outcome.results if r.severity]
    pending = [r.raw_severity for r in outcome.results if not r.severity and r.raw_severity]
    rows = f"{len(outcome.results)} rows: " if len(outcome.results) > 1 else ""
    if firing:
        return f"{rows}fires {worst(firing)}"
    if pending:
        return f"{rows}pending {worst(pending)}"
    return f"{rows}all clear"
