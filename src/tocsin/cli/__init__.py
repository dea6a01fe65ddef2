"""The `tocsin` command: nouns then verbs (`tocsin alerts ack 12 --by ana`).

`main()` imports only the module of the command being run (`COMMANDS` lists them all with their
help), and each command imports the store, the API or the pipeline in its own body: `tocsin
--help` loads no command module and `tocsin alerts list` no module of the API or the pipeline."""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

import typer

# Every command, in the order `tocsin --help` lists them: name -> (module in tocsin.cli, the
# object there, one line of help). A group is a Typer app, a command a function. The modules
# are imported only for the command being run, so `tocsin alerts list` loads neither the API
# nor the other nineteen modules, and `tocsin --help` loads none of them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("setup", "init", "Write a starter tocsin.yaml and the shipped runbooks."),
    "run": ("run", "run", "Run the workers and serve the API, until stopped."),
    "demo": ("demo", "demo", "Run the storefront scenario on a virtual clock."),
    "instances": ("instances", "instances", "The instances sharing the store."),
    "config": ("config", "app", "Check and print the configuration."),
    "db": ("setup", "db_app", "Manage the store's schema."),
    "check": ("checks", "app", "Run and inspect checks."),
    "alerts": ("alerts", "app", "List, inspect, acknowledge and resolve alerts."),
    "heartbeat": ("heartbeats", "app", "Ping URLs for cron jobs, and their pings."),
    "oncall": ("oncall", "app", "Who is on call, shifts, overrides, calendars."),
    "token": ("tokens", "app", "API tokens and integration keys."),
    "silence": ("silences", "app", "Mute alerts by label matchers."),
    "maintenance": ("maintenance", "app", "Maintenance windows per service."),
    "known-issue": ("known_issues", "app", "Suppress and count a known issue."),
    "stats": ("stats", "app", "Figures about Tocsin's own alerting."),
    "runbook": ("runbooks", "app", "List, show and lint runbooks."),
    "incident": ("incidents", "app", "Declare incidents, command them, post status updates."),
    "status": ("status", "app", "The public status page: show it, export it."),
    "report": ("reports", "app", "Operations reports: list, run, show."),
    "slo": ("slos", "app", "Service-level objectives and error budgets."),
    "user": ("users", "app", "Console sign-ins of the configured users."),
    "audit": ("audit", "app", "The audit log of operator actions."),
}


def build(only: str | None = None) -> typer.Typer:
    """The `tocsin` app with every command loaded, or only `only` loaded and the others listed
    by name and help (enough for `tocsin --help` and for an unknown command's error)."""
    root = typer.Typer(
        no_args_is_help=True,
        add_completion=False,
        help="Tocsin: alerting, escalation and incident response.",
    )
    root.callback()(_root)
    for name, (module, attribute, summary) in COMMANDS.items():
        if only is not None and name != only:
            root.command(name, help=summary, short_help=summary)(_not_loaded)
            continue
        found: Any = getattr(import_module(f"tocsin.cli.{module}"), attribute)
        if isinstance(found, typer.Typer):
            root.add_typer(found, name=name, help=summary)
        else:
            root.command(name, short_help=summary)(found)
    return root


def _not_loaded() -> None:  # pragma: no cover - only listed, never run: main() loads the real one
    raise typer.Exit(2)


def __getattr__(name: str) -> typer.Typer:
    """`tocsin.cli.app`, every command loaded (the tests' CliRunner and embedders use it)."""
    if name == "app":
        return build()
    raise AttributeError(name)


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"tocsin {version('tocsin')}")
        raise typer.Exit()


def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Tocsin: alerting, escalation and incident response."""


def main() -> None:
    import sys

    asked = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    build(asked if asked in COMMANDS else "")()
