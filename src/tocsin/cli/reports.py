"""`tocsin report list|run|show`: scheduled reports, a run by hand, a stored run."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tocsin.cli.common import (
    ConfigOption,
    JsonOption,
    clock,
    console,
    fail,
    load_config,
    optional_config,
    print_json,
    store,
    transaction,
    when,
)
from tocsin.cli.oncall import parse_time

app = typer.Typer(no_args_is_help=True, help="Operations reports: list, run, show.")


@app.command("list")
def list_reports(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every configured report, its schedule, its next run and its last status."""
    from tocsin.reports import service

    loaded = load_config(config)
    with store(loaded) as factory, transaction(factory) as session:
        following = service.next_due(session)
        last: dict[str, Any] = {}
        for run in service.list_(session, limit=500):
            last.setdefault(run.report_name, run)
    data: list[dict[str, Any]] = [
        {
            "name": name,
            "title": spec.title or name,
            "schedule": f"{spec.schedule.cron} {spec.schedule.timezone}"
            + (f" ({spec.schedule.only})" if spec.schedule.only else ""),
            "channels": spec.channels,
            "enabled": spec.enabled,
            "next_run_at": following.get(name),
            "last_run_id": last[name].id if name in last else None,
            "last_status": last[name].status if name in last else None,
        }
        for name, spec in loaded.config.reports.items()
    ]
    if json:
        print_json(data)
        return
    table = Table("report", "schedule", "channels", "next run (UTC)", "last run", "status")
    for d in data:
        table.add_row(
            d["name"],
            d["schedule"],
            ", ".join(d["channels"]) or "—",
            when(d["next_run_at"]),
            str(d["last_run_id"] or "—"),
            d["last_status"] or "—",
        )
    console.print(table)


@app.command("run")
def run_report(
    name: Annotated[str, typer.Argument(help="The report's name.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="As of this time: now, now-1d or ISO 8601 (default: now)."),
    ] = None,
    post: Annotated[
        bool, typer.Option("--post", help="Post it to the report's channels too.")
    ] = False,
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Run a report now (or as of --at), store the run and print it."""
    from rich.markdown import Markdown

    from tocsin.errors import NotFound
    from tocsin.reports.render import as_json, markdown
    from tocsin.reports.runs import run_now
    from tocsin.worker.loop import SourcePool

    loaded = load_config(config)
    spec = loaded.config.reports.get(name)
    if spec is None:
        known = ", ".join(sorted(loaded.config.reports)) or "none are configured"
        fail(f"no report named {name!r} (known: {known})")
    moment = parse_time(at, clock.now(), spec.schedule.timezone) if at else None
    sources = SourcePool(loaded.config)
    try:
        with store(loaded) as factory:
            report, run_id = run_now(
                factory, loaded.config, clock, name, moment, sources.get, send=post
            )
    except NotFound as exc:
        fail(str(exc))
    finally:
        sources.close()
    if json:
        print_json({"id": run_id, **as_json(report)})
    else:
        console.print(Markdown(markdown(report)))
        console.print(f"stored as run {run_id}" + (" and posted" if post else ""))
    if report.status != "healthy":
        raise typer.Exit(3)


@app.command("show")
def show_report(
    run_id: Annotated[int, typer.Argument(help="The run's id (`tocsin report list`).")],
    json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """A stored run: its content as it was posted, its status, figures and hash."""
    from rich.markdown import Markdown

    from tocsin.reports import service
    from tocsin.reports.schemas import run_detail

    with store(optional_config(config)) as factory, transaction(factory) as session:
        detail = run_detail(service.get(session, run_id))
    if json:
        print_json(detail)
        return
    console.print(Markdown(detail["content"] or ""))
    console.print(
        f"run {detail['id']} of {detail['report']} ({detail['trigger']}) for "
        f"{when(detail['slot_at'])} UTC: {detail['status']}; sha256 {detail['content_hash']}"
    )


@app.command("chart")
def chart_report(
    name: Annotated[str, typer.Argument(help="The report's name.")],
    figure: Annotated[
        str | None,
        typer.Argument(help="The figure, like mtta_p50_minutes (omit to list them)."),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", help="Write the chart here (.png or .svg).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """A figure's trend over the report's stored runs, as PNG or SVG."""
    from pathlib import Path

    from tocsin.reports import service
    from tocsin.reports.charts import trend, trends

    with store(optional_config(config)) as factory, transaction(factory) as session:
        runs = [(r.slot_at, r.figures or {}) for r in service.list_(session, name, limit=1000)]
    found = trends(runs)
    if figure is None or figure not in found:
        known = "\n".join(sorted(found)) or "(no stored runs with figures)"
        if figure is not None:
            fail(f"no figure {figure!r} in the runs of {name!r}; there are:\n{known}")
        console.print(known)
        return
    target = Path(out or f"{name}-{figure}.png".replace("/", "_").replace(" ", "_"))
    drawn = trend(found[figure], f"{name}: {figure}", "svg" if target.suffix == ".svg" else "png")
    target.write_bytes(drawn)
    console.print(f"wrote {target} ({len(found[figure])} runs)")
