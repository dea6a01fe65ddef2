"""The `tocsin` command: nouns then verbs (`tocsin alerts ack 12 --by ana`).

Importing this builds every command's signature and nothing else: each command imports the
store, the API or the pipeline in its own body, so `tocsin --help` answers in a blink."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli import (
    alerts,
    audit,
    checks,
    config,
    demo,
    heartbeats,
    incidents,
    instances,
    known_issues,
    maintenance,
    oncall,
    remote,
    reports,
    run,
    runbooks,
    setup,
    silences,
    stats,
    status,
    tokens,
    users,
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Tocsin: alerting, escalation and incident response.",
)
app.add_typer(config.app, name="config")
app.add_typer(setup.db_app, name="db")
app.add_typer(checks.app, name="check")
app.add_typer(alerts.app, name="alerts")
app.add_typer(heartbeats.app, name="heartbeat")
app.add_typer(oncall.app, name="oncall")
app.add_typer(tokens.app, name="token")
app.add_typer(silences.app, name="silence")
app.add_typer(maintenance.app, name="maintenance")
app.add_typer(known_issues.app, name="known-issue")
app.add_typer(stats.app, name="stats")
app.add_typer(runbooks.app, name="runbook")
app.add_typer(incidents.app, name="incident")
app.add_typer(status.app, name="status")
app.add_typer(reports.app, name="report")
app.add_typer(users.app, name="user")
app.add_typer(audit.app, name="audit")
app.command("init")(setup.init)
app.command("run")(run.run)
app.command("demo")(demo.demo)
app.command("instances")(instances.instances)


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"tocsin {version('tocsin')}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="TOCSIN_URL",
            show_envvar=True,
            help="A Tocsin's URL: alerts, silence and incident commands use its API.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TOCSIN_TOKEN",
            show_envvar=True,
            help="The API token for --server (`tocsin token create NAME --scope write`).",
        ),
    ] = None,
) -> None:
    """Tocsin: alerting, escalation and incident response."""
    remote.use(server, token)
    remote.check_noun(ctx.invoked_subcommand)


def main() -> None:
    app()
