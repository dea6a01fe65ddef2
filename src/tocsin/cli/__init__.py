"""The `tocsin` command: nouns then verbs (`tocsin alerts ack 12 --by ana`)."""

from __future__ import annotations

import typer

from tocsin.cli import alerts, checks, config, demo, noise, oncall, run, runbooks, setup, tokens

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Tocsin: alerting, escalation and incident response.",
)
app.add_typer(config.app, name="config")
app.add_typer(setup.db_app, name="db")
app.add_typer(checks.app, name="check")
app.add_typer(alerts.app, name="alerts")
app.add_typer(oncall.app, name="oncall")
app.add_typer(tokens.app, name="token")
app.add_typer(noise.silence_app, name="silence")
app.add_typer(noise.maintenance_app, name="maintenance")
app.add_typer(noise.known_issue_app, name="known-issue")
app.add_typer(noise.stats_app, name="stats")
app.add_typer(runbooks.app, name="runbook")
app.command("init")(setup.init)
app.command("run")(run.run)
app.command("demo")(demo.demo)


def main() -> None:
    app()
